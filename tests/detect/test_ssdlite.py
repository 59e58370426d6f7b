"""The SSDLite MobileNetV2 person model: finds the people COCO finds, runs in detect and run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam import bundled
from edgecam.detect import flatbuffer as fb
from edgecam.detect.compare import matches
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.imaging import read_image
from tests.helpers import DATA, run_edgecam

WITH_PEOPLE = ["astronaut.png", "messi5.jpg", "person.jpg"]


@pytest.fixture(scope="module")
def ssdlite() -> Iterator[Detector]:
    det = Detector.from_config(ModelConfig(name="ssdlite-person", device="cpu", threshold=0.4))
    yield det
    det.close()


def test_it_is_an_int8_ssdlite_with_depthwise_heads(ssdlite: Detector) -> None:
    assert ssdlite.labels == {0: "person"}
    assert ssdlite.input.dtype.__name__ == "int8"
    model = fb.read_model(bundled.model_file(bundled.SSDLITE_MODEL).read_bytes())
    ops = fb.op_names(model)
    # SSDLite: the box predictor heads are depthwise separable (MobileNetV2 has 17 of its own).
    assert ops.count("DEPTHWISE_CONV_2D") > 17 + 10 and ops[-1] == "TFLite_Detection_PostProcess"


@pytest.mark.parametrize("image", WITH_PEOPLE)
def test_finds_each_person_coco_finds(
    ssdlite: Detector, detector: Detector, data_dir: Path, image: str
) -> None:
    frame = read_image(data_dir / image)
    people = [d for d in detector.detect(frame) if d.label == "person" and d.score >= 0.6]
    assert people
    found = ssdlite.detect(frame)
    for person in people:
        assert any(matches(person, d) for d in found), (person, found)


def test_detect_cli_with_the_builtin_name() -> None:
    result = run_edgecam(["detect", "--model", "ssdlite-person", str(DATA / "person.jpg")])
    assert result.code == 0, result.err
    (line,) = [json.loads(text) for text in result.out.splitlines()]
    assert [d["label"] for d in line["detections"]] == ["person"]


def test_run_on_the_demo_clip_prints_person_events(tmp_path: Path) -> None:
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        "device: {name: people}\n"
        "model: {name: ssdlite-person}\n"
        "cameras:\n"
        f"  plaza: {{source: {{type: file, path: {bundled.demo_clip()}, pace: every}}}}\n"
        "rules:\n"
        "  - {name: someone, kind: presence, labels: [person], min_score: 0.5}\n"
    )
    result = run_edgecam(["run", "--config", str(config), "--events", "-", "--max-frames", "60"])
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    assert events and events[0]["type"] == "start"
    assert {(e["rule"], e["label"]) for e in events} == {("someone", "person")}
