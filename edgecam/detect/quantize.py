"""``edgecam quantize``: any float or uint8 SSD model to full-integer int8 (ai-edge-quantizer).

Weights become symmetric per-channel int8, activations int8 with ranges from real frames, and the
SSD postprocess stays float. The input is int8 with scale 1/128 and zero point 0, so the detector
feeds it the pixel minus 128, as it does for every int8 model. Needs the ``quantize`` extra.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecam import bundled
from edgecam.detect import flatbuffer as fb
from edgecam.detect.compare import Agreement, agreement
from edgecam.detect.frames import read_frames
from edgecam.detect.model import check_model_file, is_edgetpu_model
from edgecam.detect.runner import run_model
from edgecam.errors import ConfigError, DetectorError, ModelError
from edgecam.types import Image

log = logging.getLogger(__name__)

INPUT_RANGE = (-1.0, 127.0 / 128.0)
"""What int8 ``pixel - 128`` at scale 1/128 spans: MobileNet's [-1, 1) input."""
_INSTALL = "pip install 'edgecam[quantize]' (it brings ai-edge-quantizer; no TensorFlow)"


@dataclass(frozen=True, slots=True)
class QuantizeResult:
    """What ``quantize`` made and how its detections compare with the input model's."""

    source_type: str
    output: Path
    size: int
    frames: int
    """Calibration frames (0: activation ranges taken from the uint8 input model)."""
    agreement: Agreement


def quantize(
    source: Path,
    calibration: Sequence[Path],
    output: Path,
    per_video: int = 100,
    compare_with: Sequence[Image] = (),
) -> QuantizeResult:
    """Write the int8 build of ``source`` to ``output`` and compare the two models' detections.

    They are compared on the calibration frames, or when there are none (a quantized input
    model lends its ranges) on ``compare_with``, by default frames of the bundled demo clip.
    """
    data = check_model_file(source)
    if is_edgetpu_model(data):
        raise ModelError(f"model {source} is compiled for the Edge TPU; give its CPU build")
    model = fb.read_model(data)
    if not fb.has_postprocess(model):
        raise ModelError(
            f"model {source} is not an SSD detector (no TFLite_Detection_PostProcess op); "
            "edgecam quantize takes SSD and SSDLite models with that postprocess"
        )
    kind = fb.input_type(model)
    if kind == "float32" and not calibration:
        raise ConfigError(
            f"model {source} is a float model: give --calibration DIR_OR_VIDEO with real frames "
            "(its activation ranges come from them)"
        )
    frames = read_frames(calibration, per_video) if calibration else []
    if calibration and not frames:
        raise ConfigError("the calibration sources hold no readable frames; add real images")
    reference = quantized_ranges(model) if kind != "float32" else {}
    float_model = fb.write_model(fb.add_signature(fb.dequantize(model) if reference else model))
    quantized = run_quantizer(float_model, frames, reference)
    write_atomically(output, quantized)
    compare = frames or list(compare_with) or read_frames([bundled.demo_clip()], per_video)
    before = run_model(data, compare)
    after = run_model(quantized, compare)
    return QuantizeResult(kind, output, len(quantized), len(frames), agreement(before, after))


def quantized_ranges(model: Any) -> dict[str, tuple[float, float]]:
    """Each activation's real-valued range recorded in a quantized model, by tensor name."""
    graph = model.subgraphs[0]
    ranges = {}
    for tensor in graph.tensors:
        quant = tensor.quantization
        if quant is None or quant.scale is None or len(quant.scale) != 1:
            continue
        if model.buffers[tensor.buffer].data is not None:
            continue  # a constant: the quantizer takes weights' ranges from their values
        lo, hi = (-128, 127) if fb.input_type_of(tensor) == "int8" else (0, 255)
        scale, zero = float(quant.scale[0]), int(quant.zeroPoint[0])
        ranges[bytes(tensor.name).decode()] = ((lo - zero) * scale, (hi - zero) * scale)
    return ranges


def run_quantizer(
    float_model: bytes, frames: Sequence[Image], ranges: dict[str, tuple[float, float]]
) -> bytes:
    """The int8 model: static int8 recipe, ranges from ``frames`` or ``ranges``, output float."""
    try:
        from ai_edge_quantizer import qtyping, quantizer
        from ai_edge_quantizer.recipe_manager import RecipeManager
    except ImportError as err:
        raise DetectorError(f"edgecam quantize needs ai-edge-quantizer: {_INSTALL}") from err
    recipes = RecipeManager()
    recipes.add_static_config(
        regex=".*", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
        activation_num_bits=8, weight_num_bits=8,
    )  # fmt: skip
    # The graph's outputs come from the float postprocess: keep them float.
    recipes.add_quantization_config(
        regex=".*", operation_name=qtyping.TFLOperationName.OUTPUT, algorithm_key="no_quantize"
    )
    tool = quantizer.Quantizer(float_model, recipes.get_quantization_recipe())
    name, height, width = _input_of(float_model)
    samples = [{name: _normalised(frame, width, height)} for frame in frames]
    if not samples:  # ranges come from the input model; one sample lays out the table
        samples = [{name: np.zeros((1, height, width, 3), np.float32)}]
    with _quiet_quantizer():
        qsvs = tool.calibrate({fb.SIGNATURE: samples}, num_threads=os.cpu_count() or 1)
    for tensor, (lo, hi) in ranges.items():
        if tensor in qsvs:
            qsvs[tensor] = {**qsvs[tensor], "min": np.full_like(qsvs[tensor]["min"], lo),
                            "max": np.full_like(qsvs[tensor]["max"], hi)}  # fmt: skip
    entry = qsvs[name]
    qsvs[name] = {**entry, "min": np.full_like(entry["min"], INPUT_RANGE[0]),
                  "max": np.full_like(entry["max"], INPUT_RANGE[1])}  # fmt: skip
    with _quiet_quantizer():
        result = tool.quantize(qsvs, enable_progress_bar=False, enable_progress_report=False)
    return bytes(result.quantized_model)


def _input_of(model_bytes: bytes) -> tuple[str, int, int]:
    model = fb.read_model(model_bytes)
    graph = model.subgraphs[0]
    if len(graph.inputs) != 1:
        raise ModelError(f"the model has {len(graph.inputs)} inputs; an SSD detector has one image")
    tensor = graph.tensors[graph.inputs[0]]
    shape = [int(v) for v in tensor.shape]
    if len(shape) != 4 or shape[0] != 1 or shape[3] != 3:
        raise ModelError(f"the model's input shape {shape} is not [1, height, width, 3]")
    return bytes(tensor.name).decode(), shape[1], shape[2]


def _normalised(frame: Image, width: int, height: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The frame as the float model takes it: stretched, RGB, ``(pixel - 128) / 128``."""
    from edgecam.detect.preprocess import fill_input, make_scratch, place

    placement = place(frame.shape[1], frame.shape[0], width, height, "stretch")
    rgb = np.empty((height, width, 3), np.uint8)
    fill_input(frame, rgb, placement, make_scratch(placement))
    return ((rgb.astype(np.float32) - 128.0) / 128.0)[None]


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """Hide the quantizer's progress bars, INFO logs and debug-mode warning: the summary says it."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        # Its tqdm bars are created with an explicit ``disable`` flag: only stderr can hide them.
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors")
            yield
    finally:
        root.setLevel(level)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a crash leaves no half model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def quantize_command(model: str, calibration: Sequence[Path], output: Path, per_video: int) -> int:
    """``edgecam quantize``: build, then print what was made and how its detections compare."""
    from edgecam.detect.compare import MATCH_IOU, MATCH_SCORE, REFERENCE_SCORE

    builtin = bundled.BUILTINS.get(model)
    source = bundled.model_file(builtin.cpu_file) if builtin else Path(model)
    if builtin is None and not source.exists() and source.suffix != ".tflite":
        from edgecam.detect.config import unknown_builtin_message

        raise ConfigError(unknown_builtin_message(model).replace(", or give model.path", ""))
    if output.resolve() == source.resolve():
        raise ConfigError(f"-o {output} would overwrite the input model; name another file")
    result = quantize(source, calibration, output, per_video)
    where = f"{result.frames} calibration frames" if result.frames else "the input model's ranges"
    print(f"wrote {output}: int8 from {result.source_type}, {result.size / 1e6:.1f} MB, {where}")
    a = result.agreement
    print(
        f"against {source.name} on {a.frames} frames: recall {a.recall:.3f} "
        f"({a.found}/{a.reference}), precision {a.precision:.3f} ({a.confirmed}/{a.candidate}) "
        f"(detections scoring >= {REFERENCE_SCORE}; a match: same class, IoU >= {MATCH_IOU}, "
        f"score >= {MATCH_SCORE})"
    )
    if a.recall < 0.9 or a.precision < 0.9:
        log.warning("the int8 model disagrees with the input model: calibrate on more real frames")
    return 0
