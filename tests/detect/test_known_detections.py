"""Coral's uint8 COCO model finds what models/README.md lists on the reference images.

The int8 default is held to this reference in test_int8_fidelity.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgecam.detect.detector import Detector
from edgecam.imaging import read_image
from edgecam.types import Box
from tests.helpers import run_edgecam

# models/SOURCE.md: label, score, box (xmin, ymin, xmax, ymax) at score >= 0.4.
KNOWN: dict[str, list[tuple[str, float, Box | None]]] = {
    "dog.jpg": [
        ("dog", 0.95, (0.163, 0.393, 0.417, 0.938)),
        ("bicycle", 0.91, (0.144, 0.234, 0.741, 0.759)),
        ("car", 0.88, (0.593, 0.140, 0.910, 0.304)),
    ],
    "person.jpg": [
        ("person", 1.00, (0.283, 0.245, 0.417, 0.886)),
        ("horse", 0.96, (0.617, 0.318, 0.952, 0.806)),
    ],
    "messi5.jpg": [
        ("person", 0.95, (0.111, 0.189, 0.812, 0.971)),
        ("sports ball", 0.88, (0.616, 0.846, 0.701, 0.980)),
    ],
    "astronaut.png": [("person", 0.73, (0.021, 0.014, 0.730, 0.997))],
    "chelsea.png": [("cat", 0.88, (0.017, 0.005, 0.916, 0.989))],
    "coffee.png": [("cup", 0.93, (0.274, 0.018, 0.677, 0.765)), ("dining table", 0.58, None)],
}
# Scores are listed rounded to two places, so allow that rounding on top of the 0.05.
SCORE_TOLERANCE = 0.05 + 0.005


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two normalised boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def assert_matches(
    found: list[tuple[str, float, Box]], expected: list[tuple[str, float, Box | None]]
) -> None:
    """Each expected detection has a found one of its label, score and box."""
    for label, score, box in expected:
        candidates = [f for f in found if f[0] == label and abs(f[1] - score) <= SCORE_TOLERANCE]
        if box is not None:
            candidates = [f for f in candidates if iou(f[2], box) >= 0.8]
        assert candidates, f"{label} {score} {box} not among {found}"


@pytest.mark.parametrize("image", sorted(KNOWN))
def test_reference_finds_known_objects(
    reference_detector: Detector, data_dir: Path, image: str
) -> None:
    found = [
        (d.label, d.score, d.box) for d in reference_detector.detect(read_image(data_dir / image))
    ]
    assert_matches(found, KNOWN[image])


def test_detect_cli_prints_one_json_line_per_image(data_dir: Path) -> None:
    images = [str(data_dir / name) for name in sorted(KNOWN)]
    result = run_edgecam(["detect", "--model", "coco-uint8", "--threshold", "0.4", *images])
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [Path(line["image"]).name for line in lines] == sorted(KNOWN)
    for line in lines:
        found = [(d["label"], d["score"], tuple(d["box"])) for d in line["detections"]]
        assert_matches(found, KNOWN[Path(line["image"]).name])
        assert all(set(d) == {"label", "score", "box"} for d in line["detections"])


def test_letterbox_maps_boxes_back_to_the_frame(data_dir: Path) -> None:
    from edgecam.detect.config import ModelConfig

    letterbox = Detector.from_config(ModelConfig(device="cpu", resize="letterbox"))
    found = [(d.label, d.score, d.box) for d in letterbox.detect(read_image(data_dir / "dog.jpg"))]
    for label, _score, box in KNOWN["dog.jpg"]:
        assert box is not None
        assert any(f[0] == label and iou(f[2], box) >= 0.8 for f in found), found


def test_frames_of_any_size_and_shape(detector: Detector, data_dir: Path) -> None:
    import numpy as np

    image = read_image(data_dir / "person.jpg")
    tall = np.ascontiguousarray(np.rot90(image))
    for frame in (tall, image[:37, :53], np.zeros((1, 1, 3), np.uint8)):
        for det in detector.detect(frame):
            assert all(0.0 <= v <= 1.0 for v in det.box)


def test_per_label_minimum_scores(data_dir: Path) -> None:
    from edgecam.detect.config import ModelConfig

    strict = Detector.from_config(
        ModelConfig(device="cpu", threshold=0.5, min_scores={"car": 0.99, "dog": 0.3})
    )
    labels = {d.label for d in strict.detect(read_image(data_dir / "dog.jpg"))}
    assert labels == {"dog", "bicycle"}


@pytest.mark.parametrize("resize", ["stretch", "letterbox"])
def test_frames_fitted_on_another_thread_give_the_same_detections(
    data_dir: Path, resize: str
) -> None:
    from edgecam.detect.config import ModelConfig

    det = Detector.from_config(ModelConfig.model_validate({"device": "cpu", "resize": resize}))
    image = read_image(data_dir / "dog.jpg")
    fitted = det.fitter()(image)
    assert fitted.shape == (300, 300, 3)
    assert det.detect(image, fitted) == det.detect(image)
    # A fitted image of the wrong size (e.g. from before a model change) is resized again.
    assert det.detect(image, fitted[:100]) == det.detect(image)
