"""Locate files that ship with edgecam: the built-in models, their labels and the demo clip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

MODEL = "mobilenet_ssd_v2_coco_quant_postprocess.tflite"
"""Coral's uint8 COCO model (the reference the int8 build is checked against)."""
EDGETPU_MODEL = "mobilenet_ssd_v2_coco_quant_postprocess_edgetpu.tflite"
INT8_MODEL = "mobilenet_ssd_v2_coco_int8_postprocess.tflite"
SSDLITE_MODEL = "ssdlite_mobilenet_v2_person_int8_postprocess.tflite"
LABELS = "coco_labels.txt"
PERSON_LABELS = "person_labels.txt"
COCO80_LABELS = "coco80_labels.txt"
"""COCO's 80 class names in the order of 80-class models (YOLO; Hailo's YOLO HEFs)."""


SYSTEM_COCO_HEFS = (Path("/usr/share/hailo-models/yolov8s_h8l.hef"),)
"""The COCO detector of Raspberry Pi OS's ``hailo-models`` (YOLOv8s for the Hailo-8L, which a
Hailo-8 runs too): what a built-in COCO model runs on a Hailo when ``model.hef`` is not given."""


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    """A model that ships with edgecam, chosen by ``model.name``."""

    name: str
    cpu_file: str
    """Run on the CPU (XNNPACK)."""
    edgetpu_file: str | None
    """Run on a Coral Edge TPU; ``None``: the CPU file runs there too (mostly on the CPU)."""
    labels_file: str
    summary: str
    hailo_files: tuple[Path, ...] = ()
    """HEFs of the same task that Raspberry Pi OS installs, used on a Hailo if no ``model.hef``."""


BUILTINS: dict[str, BuiltinModel] = {
    model.name: model
    for model in (
        BuiltinModel(
            "coco", INT8_MODEL, EDGETPU_MODEL, LABELS,
            "SSD MobileNetV2, 80 COCO classes: int8 on the CPU, Coral's uint8 build on an Edge TPU",
            SYSTEM_COCO_HEFS,
        ),
        BuiltinModel(
            "coco-uint8", MODEL, EDGETPU_MODEL, LABELS,
            "SSD MobileNetV2, 80 COCO classes: Coral's uint8 model (about half the int8 speed)",
            SYSTEM_COCO_HEFS,
        ),
        BuiltinModel(
            "ssdlite-person", SSDLITE_MODEL, None, PERSON_LABELS,
            "SSDLite MobileNetV2, person only, int8: for counting, presence and loitering",
        ),
    )
}  # fmt: skip
DEFAULT_MODEL = "coco"


def model_file(name: str) -> Path:
    """Path of a bundled model file: inside the installed wheel, or ``models/`` of a checkout."""
    installed = _PACKAGE / "models" / name
    if installed.exists():
        return installed
    return _PACKAGE.parent / "models" / name


def demo_clip() -> Path:
    """The bundled pedestrian clip used by the built-in demo."""
    return _PACKAGE / "data" / "demo.mp4"
