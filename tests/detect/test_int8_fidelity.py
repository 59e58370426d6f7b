"""The int8 COCO model (the CPU default) against Coral's uint8 reference: the same detections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from edgecam.detect.compare import agreement
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.geometry import iou
from edgecam.imaging import as_frame, read_image
from edgecam.types import Image

IMAGES = ["astronaut.png", "chelsea.png", "coffee.png", "dog.jpg", "messi5.jpg", "person.jpg"]


def test_default_cpu_model_is_int8(detector: Detector) -> None:
    assert detector.input.dtype.__name__ == "int8"
    assert Path(detector.info.model).name == "mobilenet_ssd_v2_coco_int8_postprocess.tflite"


@pytest.mark.parametrize("image", IMAGES)
def test_same_objects_as_the_uint8_model_on_the_test_images(
    detector: Detector, reference_detector: Detector, data_dir: Path, image: str
) -> None:
    frame = read_image(data_dir / image)
    reference = reference_detector.detect(frame)
    found = detector.detect(frame)
    assert sorted(d.label for d in found) == sorted(d.label for d in reference)
    for ref in reference:
        assert any(
            d.label == ref.label and abs(d.score - ref.score) <= 0.1 and iou(d.box, ref.box) >= 0.8
            for d in found
        ), (ref, found)


def every_tenth_frame(path: Path) -> list[Image]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    index = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % 10 == 0:
            frames.append(as_frame(bgr))
        index += 1
    capture.release()
    return frames


@pytest.fixture(scope="module")
def low_threshold() -> Iterator[tuple[Detector, Detector]]:
    """int8 and uint8 at threshold 0.4: a match may score that low (quantization moves scores)."""
    pair = (
        Detector.from_config(ModelConfig(device="cpu", threshold=0.4)),
        Detector.from_config(ModelConfig(name="coco-uint8", device="cpu", threshold=0.4)),
    )
    yield pair
    for det in pair:
        det.close()


def test_recall_and_precision_on_the_vtest_clip(
    low_threshold: tuple[Detector, Detector], data_dir: Path
) -> None:
    int8, uint8 = low_threshold
    frames = every_tenth_frame(data_dir / "vtest.avi")
    assert len(frames) >= 70
    # agreement() counts detections scoring >= 0.5 and matches scoring >= 0.4.
    result = agreement([uint8.detect(f) for f in frames], [int8.detect(f) for f in frames])
    assert result.reference >= 200, result
    assert result.recall >= 0.95 and result.precision >= 0.95, result
