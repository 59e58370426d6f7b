"""On a machine with a Coral: the bundled model runs on the Edge TPU and finds the same objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.imaging import read_image


@pytest.mark.edgetpu
def test_bundled_model_on_the_edge_tpu(data_dir: Path) -> None:
    det = Detector.from_config(ModelConfig(device="auto"))
    assert det.info.device != "cpu"
    assert det.info.model.endswith("_edgetpu.tflite")
    labels = {d.label for d in det.detect(read_image(data_dir / "dog.jpg"))}
    assert {"dog", "bicycle", "car"} <= labels
