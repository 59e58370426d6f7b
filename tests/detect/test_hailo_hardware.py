"""On a machine with a Hailo-8/8L: a real HEF passes the known-answer check and finds objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgecam.detect.choose import open_detector
from edgecam.detect.config import ModelConfig
from edgecam.imaging import read_image

# Raspberry Pi OS's hailo-models package (YOLOv8s for the Hailo-8L, which also runs on a Hailo-8).
HEFS = (
    Path("/usr/share/hailo-models/yolov8s_h8l.hef"),
    Path("/usr/share/hailo-models/yolov8s_h8.hef"),
)


@pytest.mark.hailo
def test_a_real_hef_on_the_hailo(data_dir: Path) -> None:
    hef = next((path for path in HEFS if path.is_file()), None)
    assert hef is not None, "no HEF found: sudo apt install hailo-models"
    detector = open_detector(ModelConfig(name="coco", hef=hef, device="hailo", threshold=0.4))
    try:
        assert detector.info.device == "hailo" and detector.info.check.startswith("passed")
        labels = {d.label for d in detector.detect(read_image(data_dir / "dog.jpg"))}
        assert {"dog", "bicycle", "car"} <= labels, labels
    finally:
        detector.close()
