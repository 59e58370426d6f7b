"""Bad model and label inputs give one clear message and exit code 1, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgecam import bundled
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.detect.labels import check_labels_fit, parse_labels
from edgecam.detect.model import read_outputs
from edgecam.detect.runtime import delegate_options
from edgecam.errors import DetectorError, DeviceNotFoundError, ModelError
from tests.helpers import CliResult, run_edgecam

MODEL = bundled.model_file(bundled.MODEL)
EDGETPU = bundled.model_file(bundled.EDGETPU_MODEL)


def detect_cli(tmp_path: Path, *args: str) -> CliResult:
    image = Path(__file__).parents[1] / "data" / "dog.jpg"
    return run_edgecam(["detect", str(image), *args], cwd=tmp_path)


def assert_clean_failure(result: CliResult, code: int, *needles: str) -> None:
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err
    error_lines = [line for line in result.err.splitlines() if line.startswith("edgecam: error")]
    assert len(error_lines) == 1, result.err
    for needle in needles:
        assert needle in error_lines[0], error_lines[0]


def test_missing_model(tmp_path: Path) -> None:
    result = detect_cli(tmp_path, "--model", "nope.tflite")
    assert_clean_failure(result, 1, "nope.tflite", "not found")


def test_truncated_model(tmp_path: Path) -> None:
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(MODEL.read_bytes()[:100_000])
    result = detect_cli(tmp_path, "--model", str(cut), "--device", "cpu")
    assert_clean_failure(result, 1, "cut.tflite", "cannot be loaded")


def test_not_a_tflite_file(tmp_path: Path) -> None:
    fake = tmp_path / "photo.tflite"
    shutil.copy(Path(__file__).parents[1] / "data" / "dog.jpg", fake)
    result = detect_cli(tmp_path, "--model", str(fake))
    assert_clean_failure(result, 1, "photo.tflite", "not a TFLite model")


def test_edgetpu_model_on_the_cpu(tmp_path: Path) -> None:
    result = detect_cli(tmp_path, "--model", str(EDGETPU), "--device", "cpu")
    assert_clean_failure(result, 1, "compiled for the Edge TPU", "CPU build", "libedgetpu")


def test_edgetpu_model_with_auto_and_no_tpu(tmp_path: Path) -> None:
    result = detect_cli(tmp_path, "--model", str(EDGETPU))
    assert_clean_failure(result, 1, "compiled for the Edge TPU")


@pytest.mark.parametrize("device", ["usb", "usb:0", "pci:1"])
def test_absent_tpu_named_explicitly(tmp_path: Path, device: str) -> None:
    result = detect_cli(tmp_path, "--device", device)
    assert_clean_failure(result, 1, "libedgetpu.so.1", "model.device: cpu")


def test_auto_falls_back_to_the_cpu_with_one_warning(tmp_path: Path) -> None:
    result = detect_cli(tmp_path)
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "running on the CPU" in warnings[0]


def test_missing_label_file(tmp_path: Path) -> None:
    result = detect_cli(tmp_path, "--labels", "missing.txt")
    assert_clean_failure(result, 1, "missing.txt", "not found")


def test_eighty_plain_labels_do_not_fit_ninety_classes(tmp_path: Path) -> None:
    ids = parse_labels(bundled.model_file(bundled.LABELS).read_text())
    plain = tmp_path / "coco80.txt"
    plain.write_text("\n".join(ids.values()) + "\n")
    result = detect_cli(tmp_path, "--labels", str(plain), "--device", "cpu")
    assert_clean_failure(result, 1, "80 labels", "90 classes")


def test_label_ids_beyond_the_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="up to 120"):
        check_labels_fit({0: "a", 120: "b"}, 90, "x.txt")


def test_label_formats() -> None:
    assert parse_labels("0  person\n2  car\n") == {0: "person", 2: "car"}
    assert parse_labels("person\nbicycle\n\ncar\n") == {0: "person", 1: "bicycle", 2: "car"}
    assert parse_labels("0: traffic light\n") == {0: "traffic light"}
    with pytest.raises(ModelError, match="empty"):
        parse_labels("\n\n")
    with pytest.raises(ModelError, match="twice"):
        parse_labels("1 a\n1 b\n")


def test_detector_reports_cpu_when_falling_back() -> None:
    det = Detector.from_config(ModelConfig(device="auto"))
    assert det.info.device == "cpu"
    assert det.info.runtime == "ai_edge_litert"
    assert det.info.input_size == (300, 300)


def test_device_options() -> None:
    assert delegate_options("auto") == {}
    assert delegate_options("usb:1") == {"device": "usb:1"}
    with pytest.raises(DetectorError):
        delegate_options("gpu")
    assert issubclass(DeviceNotFoundError, DetectorError)


class FakeInterpreter:
    """Just enough of the interpreter API for output discovery."""

    def __init__(self, outputs: list[tuple[str, list[int]]], values: dict[int, Any]) -> None:
        self._details = [
            {"name": name, "index": i, "shape": np.array(shape)}
            for i, (name, shape) in enumerate(outputs)
        ]
        self._values = values

    def get_output_details(self) -> list[dict[str, Any]]:
        return self._details

    def get_tensor(self, index: int) -> Any:
        return self._values[index]


def test_outputs_found_by_shape_and_name_in_any_order() -> None:
    tf2 = FakeInterpreter(
        [("scores", [1, 10]), ("boxes", [1, 10, 4]), ("num", [1]), ("classes", [1, 10])],
        {0: np.full((1, 10), 0.25), 3: np.arange(10.0).reshape(1, 10)},
    )
    spec = read_outputs(tf2, Path("m.tflite"))
    assert (spec.boxes, spec.classes, spec.scores, spec.count) == (1, 3, 0, 2)


def test_non_ssd_model_is_rejected() -> None:
    classifier = FakeInterpreter([("logits", [1, 1001])], {})
    with pytest.raises(ModelError, match="SSD postprocess"):
        read_outputs(classifier, Path("mobilenet_v2.tflite"))
