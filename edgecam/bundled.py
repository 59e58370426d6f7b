"""Locate files that ship with edgecam: the bundled model, its labels and the demo clip."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

MODEL = "mobilenet_ssd_v2_coco_quant_postprocess.tflite"
EDGETPU_MODEL = "mobilenet_ssd_v2_coco_quant_postprocess_edgetpu.tflite"
LABELS = "coco_labels.txt"


def model_file(name: str) -> Path:
    """Path of a bundled model file: inside the installed wheel, or ``models/`` of a checkout."""
    installed = _PACKAGE / "models" / name
    if installed.exists():
        return installed
    return _PACKAGE.parent / "models" / name


def demo_clip() -> Path:
    """The bundled pedestrian clip used by the built-in demo."""
    return _PACKAGE / "data" / "demo.mp4"
