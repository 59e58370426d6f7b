"""The Hailo detector: its NMS decoding, config errors, and the shipped fake's contract."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edgecam import bundled
from edgecam.detect import fake_hailo
from edgecam.detect.choose import open_detector
from edgecam.detect.config import ModelConfig
from edgecam.detect.hailo import HailoDetector, decode_nms, per_class_rows
from edgecam.detect.preprocess import place
from edgecam.errors import DetectorError, ModelError
from edgecam.imaging import read_image
from tests.detect.test_known_detections import KNOWN, assert_matches
from tests.detect.test_model_errors import assert_clean_failure
from tests.helpers import DATA, run_edgecam

STRETCH = place(640, 480, 300, 300, "stretch")


@pytest.fixture
def hailo() -> Iterator[fake_hailo.FakeHailoSystem]:
    """A fresh fake Hailo device for the test."""
    yield fake_hailo.reset()
    fake_hailo.reset()


@pytest.fixture
def hef(tmp_path: Path) -> Path:
    """A fake HEF running Coral's uint8 COCO model."""
    return fake_hailo.write_fake_hef(tmp_path / "ssd.hef", bundled.model_file(bundled.MODEL))


def test_per_class_rows_reads_both_forms_of_the_nms_output() -> None:
    person = [0.1, 0.2, 0.5, 0.4, 0.9]  # ymin, xmin, ymax, xmax, score
    cars = [[0.0, 0.0, 0.1, 0.1, 0.6], [0.5, 0.5, 0.9, 0.9, 0.4]]
    listed = [np.asarray([person], np.float32), np.zeros((0, 5), np.float32), np.asarray(cars)]
    # The raw HAILO_NMS_BY_CLASS buffer: per class a count, then its rows; padding after.
    flat = np.asarray([1, *person, 0, 2, *cars[0], *cars[1], 0, 0, 0], np.float32)
    for output in (listed, [listed], flat):
        rows = per_class_rows(output, 3)
        assert [len(r) for r in rows] == [1, 0, 2]
        assert rows[2][1].tolist() == pytest.approx(cars[1])


def test_decode_nms_maps_classes_scores_and_boxes() -> None:
    rows = per_class_rows(
        [np.asarray([[0.1, 0.2, 0.5, 0.4, 0.9]]), np.asarray([[0, 0, 1, 1, 0.55]])], 2
    )
    found = decode_nms(
        rows, labels={0: "person"}, threshold=0.5, min_scores={"class1": 0.6}, placement=STRETCH
    )
    assert [(d.label, d.class_id) for d in found] == [("person", 0)]
    assert found[0].box == pytest.approx((0.2, 0.1, 0.4, 0.5))
    assert found[0].score == pytest.approx(0.9)


def test_the_fake_hailo_finds_the_known_objects(
    hailo: fake_hailo.FakeHailoSystem, hef: Path
) -> None:
    detector = HailoDetector(ModelConfig(name="coco", hef=hef, threshold=0.4), fake_hailo)
    assert detector.info.device == "hailo" and detector.info.input_size == (300, 300)
    assert hailo.held
    for name in ("dog.jpg", "person.jpg", "messi5.jpg"):
        found = [(d.label, d.score, d.box) for d in detector.detect(read_image(DATA / name))]
        assert_matches(found, KNOWN[name])
    # Frames fitted on the capture thread give the same answer.
    image = read_image(DATA / "dog.jpg")
    assert detector.detect(image, detector.fitter()(image)) == detector.detect(image)
    detector.close()
    assert not hailo.held


def test_a_yolo_hef_gets_cocos_80_names(hailo: fake_hailo.FakeHailoSystem, tmp_path: Path) -> None:
    # An 80-class HEF (the YOLO builds): COCO's 80 names, not Coral's ids with gaps.
    hef80 = fake_hailo.write_fake_hef(tmp_path / "yolo.hef", bundled.model_file(bundled.MODEL), 80)
    detector = HailoDetector(ModelConfig(name="coco", hef=hef80), fake_hailo)
    assert detector.labels[79] == "toothbrush" and len(detector.labels) == 80
    detector.close()
    with pytest.raises(ModelError, match="class ids up to 89, but the model predicts 80"):
        HailoDetector(
            ModelConfig(name="coco", hef=hef80, hef_labels=bundled.model_file(bundled.LABELS)),
            fake_hailo,
        )
    assert not hailo.held


def test_one_device_one_holder(hailo: fake_hailo.FakeHailoSystem, hef: Path) -> None:
    """Cameras share the one detector: a second open of the device fails, as on a real Hailo."""
    first = open_detector(ModelConfig(name="coco", hef=hef, device="hailo"), hailo=fake_hailo)
    with pytest.raises(DetectorError, match="in use"):
        open_detector(ModelConfig(name="coco", hef=hef, device="hailo"), hailo=fake_hailo)
    first.close()


def test_a_lost_device_raises_from_detect(hailo: fake_hailo.FakeHailoSystem, hef: Path) -> None:
    detector = open_detector(ModelConfig(name="coco", hef=hef), hailo=fake_hailo)
    hailo.lose_after = hailo.runs + 1
    image = read_image(DATA / "dog.jpg")
    assert detector.detect(image)
    with pytest.raises(DetectorError, match=r"Hailo inference failed: .*mid-inference"):
        detector.detect(image)
    detector.close()


def test_a_real_hef_on_the_fake_is_a_model_error(
    hailo: fake_hailo.FakeHailoSystem, tmp_path: Path
) -> None:
    junk = tmp_path / "other.hef"
    junk.write_bytes(b"\x01HEF" + bytes(100))
    with pytest.raises(ModelError, match="cannot be loaded on this Hailo"):
        HailoDetector(ModelConfig(name="coco", hef=junk), fake_hailo)
    assert not hailo.held


def _check_config(tmp_path: Path, model: str) -> tuple[int, str]:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"model: {model}\ncameras: {{a: {{source: {{type: file, path: {DATA / 'vtest.avi'}}}}}}}\n"
    )
    result = run_edgecam(["check-config", str(config)])
    return result.code, result.err


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        (
            "{path: yolov8s_h8l.hef}",
            "is a Hailo HEF, which runs only on a Hailo-8/8L: give it as model.hef",
        ),
        ("{hef: ssd.tflite}", "is not a .hef file: a Hailo runs only models compiled for it"),
        ("{path: ssd.tflite, device: hailo}", "model.device: hailo needs model.hef"),
        ("{device: 'hailo:1'}", "expected auto, cpu, hailo, usb, usb:N, pci or pci:N"),
    ],
)
def test_config_errors_for_files_on_the_wrong_device(
    tmp_path: Path, model: str, needle: str
) -> None:
    (tmp_path / "yolov8s_h8l.hef").write_bytes(b"x")
    (tmp_path / "ssd.tflite").write_bytes(b"x")
    code, err = _check_config(
        tmp_path,
        model.replace("yolov8s", str(tmp_path / "yolov8s")).replace("ssd.", str(tmp_path / "ssd.")),
    )
    assert code == 2 and needle in err and "Traceback" not in err, err


def test_detect_refuses_a_hef_as_the_cpu_model(tmp_path: Path) -> None:
    hef = tmp_path / "model.hef"
    hef.write_bytes(b"x")
    result = run_edgecam(["detect", str(DATA / "dog.jpg"), "--model", str(hef)])
    assert_clean_failure(result, 2, "is a Hailo HEF", "model.hef")


def test_auto_picks_the_hailo_with_the_systems_coco_hef(
    hailo: fake_hailo.FakeHailoSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No model.hef: a built-in COCO model runs hailo-models' YOLOv8s (80 classes) when present."""
    model = bundled.model_file(bundled.MODEL)
    yolo = fake_hailo.write_fake_hef(tmp_path / "yolov8s_h8l.hef", model, 80, "yolov8s")
    coco = dataclasses.replace(bundled.BUILTINS["coco"], hailo_files=(tmp_path / "no.hef", yolo))
    monkeypatch.setitem(bundled.BUILTINS, "coco", coco)
    detector = open_detector(ModelConfig(name="coco"), hailo=fake_hailo)
    assert detector.info.device == "hailo" and detector.info.model == str(yolo)
    assert detector.info.check.endswith("person 1.00, horse 0.96"), detector.info
    assert len(detector.labels) == 80
    detector.close()
    # Without one, an explicit Hailo says what to install.
    monkeypatch.setitem(bundled.BUILTINS, "coco", dataclasses.replace(coco, hailo_files=()))
    with pytest.raises(ModelError, match=r"no HEF for the Hailo: set model\.hef, or install"):
        open_detector(ModelConfig(name="coco", device="hailo"), hailo=fake_hailo)
    assert open_detector(ModelConfig(name="coco"), hailo=fake_hailo).info.device == "cpu"
