"""Frames the detector will not take (over the camera's ``fps`` cap) are decoded, not converted.

A network camera's capture thread decodes every frame of its H.264 stream (frames depend on each
other) but converts to BGR, and fits to the model's input, only the frames the detection loop
may take; ``unconverted`` in the camera's stats counts the others.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from edgecam.camera.av import AvSource
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.pipeline import loop as pipeline_module
from edgecam.pipeline.cameras import CameraState
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.service.metrics import ServiceCollector, ServiceFigures
from edgecam.service.supervisor import _camera_figures
from edgecam.types import Frame
from tests.camera.fixtures import RecordingSink, camera_stats, running, wait_until
from tests.clips.media import write_h264
from tests.clips.streaming import LiveStream


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of the demo clip at 10 fps, small: the camera's substream."""
    return write_h264(tmp_path_factory.mktemp("skip") / "s.mp4", frames=80, size=(320, 180))


def _pipeline(source: dict[str, object], fps: float, detector: Detector) -> Pipeline:
    config = Config.model_validate({"cameras": {"cam": {"source": source, "fps": fps}}})
    return Pipeline(config, detector, RuleEngine.from_config(config), [RecordingSink()])


def _analysed_times(pipeline: Pipeline) -> list[float]:
    """Record the (video or capture) time of every frame the detector runs on."""
    seen: list[float] = []
    analyse = pipeline._analyse

    def spy(cam: CameraState, frame: Frame) -> None:
        seen.append(frame.mono)
        analyse(cam, frame)

    pipeline._analyse = spy  # type: ignore[method-assign]
    return seen


def test_a_recording_under_an_fps_cap_is_analysed_on_the_same_frames_with_fewer_converted(
    h264: Path, detector: Detector
) -> None:
    source: dict[str, object] = {"type": "av", "path": str(h264), "pace": "every"}
    runs = {}
    for skipping in (False, True):
        pipeline = _pipeline(source, 2.5, detector)
        capture = pipeline.cameras[0].capture
        if not skipping:
            capture.wanted = None  # every frame converted, as before
        seen = _analysed_times(pipeline)
        pipeline.start()
        pipeline.run()
        decoded = capture.health(0.0)["decoded"]
        runs[skipping] = (seen, capture.frames, capture.unconverted, decoded)
    (all_seen, all_converted, none, decoded), (seen, converted, unconverted, _) = runs.values()
    assert decoded == 80 and all_converted == 80 and none == 0
    # The detector ran on the very same frames (video time, 0.4 s apart or one frame more where
    # the frame times round below it), so a recording gives the same events.
    assert seen == all_seen and 16 <= len(seen) <= 20, seen
    # The frames it never takes were decoded but not converted; each frame is one or the other.
    assert converted + unconverted == 80
    assert converted == len(seen), (converted, unconverted)


def test_a_live_stream_is_analysed_at_the_cameras_fps_and_the_rest_not_converted(
    h264: Path, detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "STATS_INTERVAL", 0.1)
    with LiveStream(h264) as stream:
        pipeline = _pipeline({"type": "av", "url": stream.url}, 2.0, detector)
        seen = _analysed_times(pipeline)
        source = pipeline.cameras[0].capture.source
        assert isinstance(source, AvSource)
        arrived: list[float] = []
        grab = source.grab

        def timed_grab() -> bool:
            ok = grab()
            arrived.append(time.monotonic())
            return ok

        source.grab = timed_grab  # type: ignore[method-assign]
        sink = pipeline.sinks[0]
        assert isinstance(sink, RecordingSink)
        with running(pipeline):
            wait_until(lambda: len(seen) >= 8)
            wait_until(lambda: bool(sink.published) and "unconverted" in camera_stats(sink, "cam"))
            stats = camera_stats(sink, "cam")
    # Detection sees the camera's 2 fps: never two frames closer than 0.5 s, and no frame that
    # came 0.5 s or more after the last one analysed was passed over for a later one.
    for last, then in itertools.pairwise(seen):
        assert then - last >= 0.5
        missed = [t for t in arrived if last + 0.5 + 0.002 <= t < then - 0.002]
        assert not missed, (last, then, missed)
    # Most frames were never converted, and the stats say so.
    unconverted, frames = stats["unconverted"], stats["frames"]
    assert unconverted >= 2 * frames and unconverted + frames <= stats["decoded"], stats
    assert stats["analysed"] >= frames - 1, stats
    # /metrics counts them too.
    cam = pipeline.cameras[0]
    figures = ServiceFigures(
        [_camera_figures(cam, cam.capture.health(time.monotonic()))], 0, "cpu", "test", 0, True, {}
    )
    samples = {
        (sample.name, sample.labels.get("camera")): sample.value
        for family in ServiceCollector(lambda: figures).collect()
        for sample in family.samples
    }
    total = samples["edgecam_frames_unconverted_total", "cam"]
    assert total == cam.capture.unconverted >= unconverted
