"""The picamera2 source against the shipped fake: the calls a real camera receives, pinned."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edgecam.camera.capture import CaptureThread, ReconnectPolicy
from edgecam.camera.fake_picamera2 import AeExposureModeEnum, FakeCameraSystem, Transform
from edgecam.camera.picamera2 import Picamera2Source, Picamera2SourceConfig
from edgecam.camera.pistreams import lores_to_bgr
from edgecam.camera.slot import LatestFrameSlot
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.errors import CameraError
from edgecam.imaging import read_image
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.types import Image
from tests.camera.fixtures import RecordingSink, wait_until


@pytest.fixture
def system(data_dir: Path) -> FakeCameraSystem:
    """One fake camera looking at a photo."""
    return FakeCameraSystem(scene=read_image(data_dir / "dog.jpg"))


def make_source(system: FakeCameraSystem, **settings: object) -> Picamera2Source:
    config = Picamera2SourceConfig.model_validate(settings)
    return Picamera2Source("pi", config, api=system.api())


def test_open_read_close_pins_the_picamera2_calls(system: FakeCameraSystem) -> None:
    source = make_source(
        system, size=[1280, 720], lores=[384, 216], fps=12.5, rotation=180, hflip=True,
        exposure="short", buffer_count=3, read_timeout="2s",
    )  # fmt: skip
    source.open()
    image = source.read()
    source.close()
    names = [name for name, _ in system.calls]
    assert names == [
        "Picamera2", "create_video_configuration", "configure", "start",
        "capture_request", "release", "stop", "close",
    ]  # fmt: skip
    calls = dict(system.calls)
    assert calls["Picamera2"] == 0
    assert calls["create_video_configuration"] == {
        "main": {"size": (1280, 720), "format": "RGB888"},
        "lores": {"size": (384, 216), "format": "YUV420"},
        "controls": {
            "FrameDurationLimits": (80000, 80000), "AeExposureMode": AeExposureModeEnum.Short,
        },
        # rotation 180 is both flips; hflip on top of it cancels the horizontal one
        "transform": Transform(hflip=0, vflip=1),
        "bc": 3,
    }  # fmt: skip
    assert calls["capture_request"] == 2.0  # the read timeout is passed as picamera2's wait
    assert image.shape == (216, 384, 3) and image.flags.c_contiguous
    assert system.outstanding == 0


def test_only_the_lores_stream_is_converted_and_it_matches_the_scene(
    system: FakeCameraSystem,
) -> None:
    source = make_source(system, lores=[320, 240])
    source.open()
    image = source.read()
    source.close()
    expected = cv2.resize(system.scene, (320, 240), interpolation=cv2.INTER_AREA)
    # YUV420 subsamples colour, so compare loosely; the stride padding must be gone.
    assert np.abs(image.astype(int) - expected.astype(int)).mean() < 6


def test_lores_to_bgr_drops_stride_padding() -> None:
    bgr = np.zeros((48, 64, 3), np.uint8)
    bgr[:, :32] = (0, 0, 255)  # red on the left
    padded = np.zeros((48, 128, 3), np.uint8)
    padded[:, :64] = bgr
    yuv: Image = np.asarray(cv2.cvtColor(padded, cv2.COLOR_BGR2YUV_I420), np.uint8)
    out = lores_to_bgr(yuv, 64, 48)
    assert out.shape == (48, 64, 3) and out[24, 10, 2] > 200 and out[24, 10, 0] < 30
    assert out[24, 50].max() < 30


def test_snapshot_takes_the_main_stream_from_the_next_request(system: FakeCameraSystem) -> None:
    source = make_source(system, size=[640, 480])
    source.open()
    result: list[object] = []
    taker = threading.Thread(target=lambda: result.append(source.snapshot(timeout=5.0)))
    taker.start()
    wait_until(source._want_main.is_set)
    source.read()
    taker.join()
    source.close()
    main = result[0]
    assert isinstance(main, np.ndarray) and main.shape == (480, 640, 3)
    assert system.outstanding == 0


def test_a_missing_camera_and_failed_reads_are_camera_errors(system: FakeCameraSystem) -> None:
    system.absent = True
    with pytest.raises(CameraError, match="not available"):
        make_source(system).open()
    system.absent = False
    source = make_source(system)
    source.open()
    system.fail_reads = 1
    with pytest.raises(CameraError, match="no frame"):
        source.read()
    assert system.outstanding == 0
    source.close()
    source.close()  # twice is fine


def test_the_capture_loop_restarts_a_camera_that_stops_delivering(
    system: FakeCameraSystem,
) -> None:
    source = make_source(system, lores=[64, 48])
    stop = threading.Event()
    policy = ReconnectPolicy(initial_backoff=0.01, max_backoff=0.05)
    capture = CaptureThread(source, LatestFrameSlot(), stop, threading.Event(), policy=policy)
    system.fail_reads = 3
    capture.start()
    try:
        wait_until(lambda: capture.reconnects >= 3 and capture.frames >= 3)
    finally:
        stop.set()
        capture.join(timeout=5.0)
    assert system.opened == 4  # the first open and three reopens
    assert [name for name, _ in system.calls].count("close") == 4
    assert system.outstanding == 0


def test_config_rejects_odd_sizes_and_quarter_turns() -> None:
    with pytest.raises(ValidationError, match="even"):
        Picamera2SourceConfig.model_validate({"lores": [301, 300]})
    with pytest.raises(ValidationError):
        Picamera2SourceConfig.model_validate({"rotation": 90})


@pytest.mark.picamera
def test_a_real_pi_camera_delivers_lores_bgr_frames() -> None:
    source = Picamera2Source("pi", Picamera2SourceConfig(lores=(320, 240), fps=10))
    source.open()
    main: list[Image | None] = []
    # A snapshot is taken by the next read, so it is asked for on another thread, as the
    # snapshot worker does while the capture thread reads.
    taker = threading.Thread(target=lambda: main.append(source.snapshot(timeout=5.0)))
    try:
        taker.start()
        frames = [source.read() for _ in range(5)]
        while taker.is_alive() and len(frames) < 100:
            frames.append(source.read())
        taker.join(5.0)
    finally:
        source.close()
    assert all(frame.shape == (240, 320, 3) for frame in frames)
    assert main and main[0] is not None and main[0].shape == (720, 1280, 3)


@pytest.mark.picamera
def test_a_real_pi_camera_gives_model_sized_lores_and_main_stream_crops() -> None:
    source = Picamera2Source("pi", Picamera2SourceConfig(size=(1920, 1080), fps=10))
    source.fit_to((300, 300), keep_aspect=False)
    source.cut_regions(
        lambda size: (((0, 0, 600, 600), (size[0] - 300, 0, size[0], 300)), True), 300
    )
    source.open()
    try:
        frames = [source.read() for _ in range(5)]
        crops, _ = source.frame_extras()
    finally:
        source.close()
    # libcamera may round the lores size; it is what the source read back after configure.
    assert all(abs(f.shape[1] - 300) <= 16 and abs(f.shape[0] - 300) <= 16 for f in frames)
    assert crops is not None and [c.shape for c in crops.images] == [(300, 300, 3)] * 2


def test_snapshots_of_a_pi_camera_come_from_the_full_size_main_stream(
    system: FakeCameraSystem, detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detector sees the small lores stream; an event's JPEG has the main stream's size."""
    monkeypatch.setattr("edgecam.camera.picamera2.real_api", system.api)
    config = Config.model_validate({
        "cameras": {"pi": {
            "source": {"type": "picamera2", "size": [1280, 720], "lores": [384, 216]},
            "tracker": {"min_hits": 1},
        }},
        "rules": [{"name": "dog", "kind": "presence", "labels": ["dog"]}],
    })  # fmt: skip
    sink = RecordingSink()
    pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [sink], max_frames=3)
    pipeline.start()
    pipeline.run()
    assert [(e.type, e.rule) for e in sink.events] == [("start", "dog"), ("end", "dog")]
    assert pipeline.cameras[0].last_frame is not None
    assert pipeline.cameras[0].last_frame.size == (384, 216)
    [(camera, rule, jpeg)] = sink.snapshots
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (720, 1280, 3)
    assert (camera, rule) == ("pi", "dog")
    assert system.outstanding == 0


def _configured_lores(system: FakeCameraSystem) -> dict[str, object]:
    lores = dict(system.calls)["create_video_configuration"]["lores"]
    assert isinstance(lores, dict)
    return lores


def test_lores_is_the_models_input_unless_given(system: FakeCameraSystem) -> None:
    source = make_source(system, size=[1280, 720])
    source.fit_to((300, 300), keep_aspect=False)
    source.open()
    image = source.read()
    source.close()
    assert _configured_lores(system) == {"size": (300, 300), "format": "YUV420"}
    assert image.shape == (300, 300, 3)  # the detector's input as it is: no resize left to do
    system.calls.clear()
    source.fit_to((300, 300), keep_aspect=True)  # letterbox: the main stream's shape inside
    source.open()
    assert source.read().shape == (168, 300, 3)
    source.close()
    system.calls.clear()
    explicit = make_source(system, lores=[320, 240])
    explicit.fit_to((300, 300), keep_aspect=False)
    explicit.open()
    assert explicit.read().shape == (240, 320, 3)  # an explicit lores wins
    explicit.close()


def test_a_pi_5_delivers_lores_as_bgr_and_a_pi_4_refuses_it(system: FakeCameraSystem) -> None:
    system.pisp = True
    source = make_source(system, size=[640, 480])
    source.fit_to((300, 300), keep_aspect=False)
    source.open()
    image = source.read()
    source.close()
    assert _configured_lores(system)["format"] == "RGB888"  # B,G,R in memory: no conversion
    expected = cv2.resize(system.scene, (300, 300), interpolation=cv2.INTER_AREA)
    assert np.array_equal(image, expected) and image.flags.c_contiguous
    with pytest.raises(RuntimeError, match="must be YUV"):  # what picamera2 says on a VC4
        camera = FakeCameraSystem().api().picamera2_class(0)
        config = camera.create_video_configuration(lores={"size": (300, 300), "format": "RGB888"})
        camera.configure(config)


def test_region_crops_come_from_the_main_stream_and_only_they_are_read(
    system: FakeCameraSystem,
) -> None:
    source = make_source(system, size=[1920, 1080])
    source.fit_to((300, 300), keep_aspect=False)
    asked: list[tuple[int, int]] = []

    def plan(size: tuple[int, int]) -> tuple[tuple[tuple[int, int, int, int], ...], bool]:
        asked.append(size)
        return ((100, 200, 400, 500), (1000, 400, 1600, 1000)), True

    source.cut_regions(plan, 300)
    source.open()
    source.read()
    crops, found = source.frame_extras()
    source.close()
    assert asked == [(1920, 1080)] and found is None and crops is not None
    assert crops.full_frame
    assert crops.regions[0] == (100 / 1920, 200 / 1080, 400 / 1920, 500 / 1080)
    assert [c.shape for c in crops.images] == [(300, 300, 3), (300, 300, 3)]
    main = system.rendered(1920, 1080, "RGB888")
    assert np.array_equal(crops.images[0], main[200:500, 100:400])  # full resolution, 1:1
    halved = cv2.resize(main[400:1000, 1000:1600], (300, 300), interpolation=cv2.INTER_AREA)
    assert np.array_equal(crops.images[1], halved)
    assert not any(c.base is not None and np.shares_memory(c, main) for c in crops.images)
    # The main stream is never copied whole (make_array) for regions; the buffer went back.
    assert system.outstanding == 0 and system.main_copies == 0


def test_lores_sizes_and_network_paths() -> None:
    from edgecam.camera.imx500 import AiCameraConfig, network_path
    from edgecam.camera.pistreams import lores_for

    assert lores_for((300, 300), (1920, 1080), keep_aspect=False) == (300, 300)
    assert lores_for((300, 300), (1920, 1080), keep_aspect=True) == (300, 168)
    assert lores_for((320, 320), (1280, 960), keep_aspect=True) == (320, 240)
    assert network_path("imx500_network_ssd_mobilenetv2_fpnlite_320x320_pp") == Path(
        "/usr/share/imx500-models/imx500_network_ssd_mobilenetv2_fpnlite_320x320_pp.rpk"
    )
    assert network_path("./nets/mine.rpk") == Path("nets/mine.rpk")
    ai = AiCameraConfig.model_validate({"network": "nets/mine.rpk"}, context={"base_dir": "/etc/e"})
    assert network_path(ai.network) == Path("/etc/e/nets/mine.rpk")
