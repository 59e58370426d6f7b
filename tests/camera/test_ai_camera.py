"""The Raspberry Pi AI Camera (IMX500) as a detector, through the fake that runs the model."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from edgecam import bundled
from edgecam.camera.fake_picamera2 import FakeCameraSystem
from edgecam.camera.picamera2 import FAKE_ENV, Picamera2Source, Picamera2SourceConfig
from edgecam.config.loader import load_config
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.detect.sensor import SensorDetections
from edgecam.errors import CameraError, ConfigError
from edgecam.geometry import iou
from edgecam.imaging import read_image
from edgecam.types import Detection
from tests.service.harness import NotifySocket, running


def ai_source(system: FakeCameraSystem, **ai: object) -> Picamera2Source:
    config = Picamera2SourceConfig.model_validate({"size": [1280, 720], "ai_camera": ai})
    return Picamera2Source("ai", config, api=system.api())


def test_the_ai_camera_hands_over_the_boxes_the_model_finds(
    data_dir: Path, detector: Detector
) -> None:
    system = FakeCameraSystem(scene=read_image(data_dir / "dog.jpg"))
    source = ai_source(system)
    source.open()
    image = source.read()
    crops, found = source.frame_extras()
    source.close()
    assert crops is None and found is not None
    calls = [name for name, _ in system.calls]
    # As picamera2 asks: the IMX500 helper before the camera, the network from its models dir.
    assert calls.index("IMX500") < calls.index("Picamera2")
    assert dict(system.calls)["IMX500"] == (
        "/usr/share/imx500-models/imx500_network_ssd_mobilenetv2_fpnlite_320x320_pp.rpk"
    )
    assert system.outstanding == 0 and system.imx500.outputs_made == 1
    sensor = SensorDetections(ModelConfig())(found)
    expected = detector.detect(read_image(data_dir / "dog.jpg"))
    assert sorted(d.label for d in sensor) == sorted(d.label for d in expected)
    for det in expected:  # the sensor's boxes, through convert_inference_coords, on the view
        assert max(iou(det.box, s.box) for s in sensor if s.label == det.label) > 0.9
    assert image.shape == (216, 384, 3)  # lores as usual: nothing told it the model


def test_sensor_detections_take_the_models_threshold_min_scores_and_labels(
    tmp_path: Path,
) -> None:
    found = [
        Detection("person", 0, 0.55, (0.1, 0.1, 0.2, 0.3)),
        Detection("dog", 17, 0.45, (0.5, 0.5, 0.6, 0.6)),
        Detection("car", 2, 0.9, (0.0, 0.0, 0.1, 0.1)),
    ]
    model = ModelConfig(threshold=0.5, min_scores={"person": 0.6, "dog": 0.4})
    assert [d.label for d in SensorDetections(model)(found)] == ["dog", "car"]
    labels = tmp_path / "labels.txt"
    labels.write_text("0 human\n2 vehicle\n17 hound\n")
    kept = SensorDetections(ModelConfig(), labels)(found)
    assert [(d.label, d.class_id) for d in kept] == [("human", 0), ("vehicle", 2)]


def test_a_missing_network_or_imx500_support_is_one_clear_error() -> None:
    system = FakeCameraSystem()
    with pytest.raises(CameraError, match=r"cannot load the AI Camera network .*imx500-all"):
        ai_source(system, network="/home/pi/nets/detector.bin").open()
    api = system.api()
    config = Picamera2SourceConfig.model_validate({"ai_camera": {}})
    bare = type(api)(**{**{f: getattr(api, f) for f in api.__slots__}, "imx500_class": None})
    with pytest.raises(CameraError, match="no IMX500 support"):
        Picamera2Source("ai", config, api=bare).open()


def _metric(text: str, name: str, camera: str) -> float:
    match = re.search(rf'^{name}\{{camera="{camera}"\}} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else -1.0


CAMERA = """\
device: {{name: ai}}
cameras:
  pi:
    source: {{type: picamera2, size: [768, 576], fps: 20{ai}}}
    lines: {{crossing: {{points: [[0.45, 0.25], [0.45, 0.65]]}}}}
rules:
  - {{name: person, kind: presence, labels: [person], min_score: 0.5}}
  - {{name: crossing, kind: line, line: crossing, labels: [person]}}
http: {{listen: "127.0.0.1:0"}}
{extra}"""
AI = ", ai_camera: {}"


def _counts(events: Path) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for line in events.read_text().splitlines():
        event = json.loads(line)
        assert event["label"] == "person" and event["camera"] == "pi"
        counts[(event["rule"], event["type"])] += 1
    return counts


def test_run_with_an_ai_camera_gives_the_tflite_events_without_a_tflite_invoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo clip through the fake Pi camera: detected on its sensor, then with TFLite."""
    monkeypatch.setenv(FAKE_ENV, str(bundled.demo_clip()))
    counts = {}
    for name, ai in (("ai", AI), ("tflite", "")):
        config = tmp_path / f"{name}.yaml"
        config.write_text(CAMERA.format(ai=ai, extra=""))
        events = tmp_path / f"{name}.jsonl"
        args = ["run", "--config", str(config), "--events", str(events), "--max-frames", "100"]
        with running(tmp_path, args, None) as service:
            deadline = time.monotonic() + 60
            metrics = ""
            while _metric(metrics, "edgecam_frames_analysed_total", "pi") < 60:
                assert time.monotonic() < deadline, service.stderr()
                time.sleep(0.2)
                metrics = service.get("/metrics")[2].decode()
            assert service.proc.wait(60) == 0, service.stderr()
        invokes = _metric(metrics, "edgecam_detector_invokes_total", "pi")
        on_sensor = _metric(metrics, "edgecam_sensor_detections_total", "pi")
        if name == "ai":
            assert invokes == 0 and on_sensor >= 60, metrics  # no TFLite invoke for the camera
        else:
            assert invokes >= 60 and on_sensor == 0, metrics
        counts[name] = _counts(events)
    assert counts["tflite"][("crossing", "count")] >= 2, counts
    assert counts["tflite"][("person", "start")] >= 1, counts
    for key in counts["ai"].keys() | counts["tflite"].keys():
        assert abs(counts["ai"][key] - counts["tflite"][key]) <= 1, counts


def test_the_firmware_upload_is_reported_and_never_trips_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAKE_ENV, str(bundled.demo_clip()))
    monkeypatch.setenv("EDGECAM_FAKE_FIRMWARE_SECONDS", "4")
    config = tmp_path / "edgecam.yaml"
    health = "health: {stale_after: 1s, invoke_timeout: 60s, stop_timeout: 5s}\n"
    config.write_text(CAMERA.format(ai=AI, extra=health))
    notify = NotifySocket(tmp_path / "notify.sock")
    try:
        with running(tmp_path, ["run", "--config", str(config)], notify) as service:
            notify.wait_for("READY", 30)
            reasons: set[str] = set()
            while not any("uploading the network firmware" in r for r in reasons):
                code, body = service.get_json("/healthz")
                assert code == 503 and body["status"] == "starting", body
                reasons.add(str(body["reason"]))
            assert reasons <= {
                "starting: camera pi: opening the AI Camera",
                "starting: camera pi: uploading the network firmware to the AI Camera",
            } | {r for r in reasons if re.search(r"firmware: \d+ % of 2\.7 MiB$", r)}, reasons
            pings = 0
            while "AI Camera network running" not in service.stderr():
                message = notify.receive(0.5)
                pings += bool(message and message.get("WATCHDOG") == "1")
                assert service.proc.poll() is None, service.stderr()
            assert pings >= 3  # pinged all through the upload, though no frame came
            deadline = time.monotonic() + 20
            while service.get_json("/healthz")[0] != 200:
                assert time.monotonic() < deadline, service.stderr()
                time.sleep(0.2)
            log = service.stderr()
    finally:
        notify.close()
    assert re.search(r"uploading the network firmware: \d+ % of 2\.7 MiB", log), log


def test_check_config_and_run_refuse_a_missing_network_or_labels_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both go through load_config(check_machine=True), as a reload does: one verdict."""
    monkeypatch.delenv(FAKE_ENV, raising=False)
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        "cameras:\n  pi: {source: {type: picamera2, ai_camera: {network: /nets/x.rpk, "
        "labels: nope.txt}}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config, check_machine=True)
    assert "ai_camera.network: /nets/x.rpk not found; install the networks" in str(caught.value)
    assert "ai_camera.labels: label file" in str(caught.value)
    monkeypatch.setenv(FAKE_ENV, str(bundled.demo_clip()))  # the fake reads no network file
    config.write_text("cameras:\n  pi: {source: {type: picamera2, ai_camera: {}}}\n")
    assert load_config(config, check_machine=True).cameras["pi"].source.type == "picamera2"


@pytest.mark.picamera
def test_a_real_ai_camera_delivers_detections_with_its_frames() -> None:
    """On a Pi with the AI Camera and imx500-all installed (the first run uploads the network)."""
    config = Picamera2SourceConfig.model_validate(
        {"size": [1280, 720], "fps": 10, "ai_camera": {"firmware_timeout": "5m"}}
    )
    source = Picamera2Source("ai", config)
    source.fit_to((300, 300), keep_aspect=False)
    source.open()
    try:
        frames = [source.read() for _ in range(30)]
        _, found = source.frame_extras()
    finally:
        source.close()
    assert all(frame.shape[2] == 3 for frame in frames)
    assert found is not None and source.loading is None
    for det in found:
        assert 0.0 <= det.box[0] <= det.box[2] <= 1.0 and 0.0 <= det.box[1] <= det.box[3] <= 1.0
        assert det.score >= 0.05 and det.label
