"""``edgecam quantize``: the bundled model dequantized and quantized again detects the same."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from edgecam import bundled
from edgecam.detect import flatbuffer as fb
from edgecam.detect.compare import agreement
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.imaging import read_image
from tests.helpers import DATA, CliResult, run_edgecam

IMAGES = ["astronaut.png", "chelsea.png", "coffee.png", "dog.jpg", "messi5.jpg", "person.jpg"]
UINT8 = bundled.model_file(bundled.MODEL)


@pytest.fixture(scope="module")
def float_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled uint8 model with its weights dequantized: a float SSD model."""
    path = tmp_path_factory.mktemp("float") / "coco_float.tflite"
    model = fb.dequantize(fb.read_model(UINT8.read_bytes()))
    path.write_bytes(fb.write_model(model))
    return path


@pytest.fixture(scope="module")
def calibration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("calibration")
    for name in IMAGES:
        shutil.copy(DATA / name, folder / name)
    return folder


def one_error_line(result: CliResult, code: int) -> str:
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = [line for line in result.err.splitlines() if line.startswith("edgecam: error")]
    assert len(lines) == 1, result.err
    return lines[0]


@pytest.mark.slow
def test_round_trip_detects_what_the_bundled_model_detects(
    float_model: Path, calibration: Path, tmp_path: Path, reference_detector: Detector
) -> None:
    out = tmp_path / "int8.tflite"
    args = ["quantize", str(float_model), "--calibration", str(calibration)]
    args += ["--calibration", str(bundled.demo_clip()), "--frames-per-video", "10"]
    result = run_edgecam([*args, "-o", str(out)], timeout=600)
    assert result.code == 0, result.err
    assert f"wrote {out}: int8 from float32" in result.out and "16 calibration frames" in result.out
    recall, precision = map(float, re.findall(r"(?:recall|precision) ([\d.]+)", result.out))
    assert recall >= 0.95 and precision >= 0.95, result.out
    model = fb.read_model(out.read_bytes())
    assert fb.input_type(model) == "int8" and fb.input_quantization(model) == (1 / 128, 0)
    int8 = Detector.from_config(ModelConfig(path=out, device="cpu"))
    frames = [read_image(DATA / name) for name in IMAGES]
    same = agreement(
        [reference_detector.detect(f) for f in frames], [int8.detect(f) for f in frames]
    )
    assert same.reference >= 10 and same.recall == 1.0 and same.precision == 1.0, same


def test_uint8_model_without_calibration_keeps_its_ranges(tmp_path: Path) -> None:
    out = tmp_path / "int8.tflite"
    result = run_edgecam(["quantize", "coco-uint8", "-o", str(out)], timeout=300)
    assert result.code == 0, result.err
    assert "int8 from uint8" in result.out and "the input model's ranges" in result.out
    recall, precision = map(float, re.findall(r"(?:recall|precision) ([\d.]+)", result.out))
    assert recall >= 0.9 and precision >= 0.9, result.out


def test_float_model_without_calibration(float_model: Path, tmp_path: Path) -> None:
    result = run_edgecam(["quantize", str(float_model), "-o", str(tmp_path / "out.tflite")])
    line = one_error_line(result, 2)
    assert "is a float model: give --calibration DIR_OR_VIDEO" in line
    assert not (tmp_path / "out.tflite").exists()


def test_non_ssd_model(float_model: Path, tmp_path: Path) -> None:
    model = fb.read_model(float_model.read_bytes())
    graph = model.subgraphs[0]
    postprocess = graph.operators.pop()
    graph.outputs = postprocess.inputs[:2]  # the raw box encodings and class scores
    cut = tmp_path / "no_postprocess.tflite"
    cut.write_bytes(fb.write_model(model))
    result = run_edgecam(["quantize", str(cut), "--calibration", str(DATA / "dog.jpg"),
                          "-o", str(tmp_path / "out.tflite")])  # fmt: skip
    line = one_error_line(result, 1)
    assert "is not an SSD detector (no TFLite_Detection_PostProcess op)" in line


def test_empty_calibration_folder(float_model: Path, tmp_path: Path) -> None:
    empty = tmp_path / "frames"
    empty.mkdir()
    (empty / "notes.txt").write_text("no frames here")
    result = run_edgecam(["quantize", str(float_model), "--calibration", str(empty),
                          "-o", str(tmp_path / "out.tflite")])  # fmt: skip
    line = one_error_line(result, 2)
    assert f"calibration folder {empty} holds no images or videos" in line


def test_unknown_builtin_name(tmp_path: Path) -> None:
    result = run_edgecam(["quantize", "ssdlite-people", "-o", str(tmp_path / "out.tflite")])
    line = one_error_line(result, 2)
    assert "unknown built-in model 'ssdlite-people' (did you mean 'ssdlite-person'?)" in line
