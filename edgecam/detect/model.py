"""Open a TFLite SSD model and read its contract: input size and type, output roles, classes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgecam.errors import ModelError

EDGETPU_OP = b"edgetpu-custom-op"
_TFLITE_MAGIC = b"TFL3"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """The model input: tensor index, height, width and element type (uint8 or int8)."""

    index: int
    height: int
    width: int
    dtype: type[np.integer[Any]]
    scale: float
    zero_point: int


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """Tensor indices of the four TFLite_Detection_PostProcess outputs, found by shape and name."""

    boxes: int
    classes: int
    scores: int
    count: int


def check_model_file(path: Path) -> bytes:
    """Read the model file and check it is a TFLite flatbuffer; return its bytes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ModelError(f"model file {path} not found; check model.path") from err
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err}") from err
    if len(data) < 8 or data[4:8] != _TFLITE_MAGIC:
        raise ModelError(
            f"model file {path} is not a TFLite model (no TFL3 identifier); "
            "give a .tflite file such as the bundled one"
        )
    return data


def is_edgetpu_model(data: bytes) -> bool:
    """True when the model was compiled for the Edge TPU (holds its custom op)."""
    return EDGETPU_OP in data


def read_input(interpreter: Any, path: Path) -> InputSpec:
    """The single image input; :class:`ModelError` unless it is [1, H, W, 3] uint8 or int8."""
    details = interpreter.get_input_details()
    if len(details) != 1:
        raise ModelError(f"model {path} has {len(details)} inputs; an SSD detector has one image")
    d = details[0]
    shape = tuple(int(v) for v in d["shape"])
    if len(shape) != 4 or shape[0] != 1 or shape[3] != 3:
        raise ModelError(f"model {path} input shape {list(shape)} is not [1, height, width, 3]")
    if d["dtype"] not in (np.uint8, np.int8):
        raise ModelError(
            f"model {path} input type is {np.dtype(d['dtype']).name}; edgecam runs "
            "full-integer quantized models (uint8 or int8): use the quantized .tflite"
        )
    scale, zero_point = d["quantization"]
    return InputSpec(d["index"], shape[1], shape[2], d["dtype"], float(scale), int(zero_point))


def read_outputs(interpreter: Any, path: Path) -> OutputSpec:
    """Find boxes, classes, scores and count among the outputs, whatever their order."""
    details = interpreter.get_output_details()
    shapes = {d["index"]: tuple(int(v) for v in d["shape"]) for d in details}
    boxes = [i for i, s in shapes.items() if len(s) == 3 and s[-1] == 4]
    pairs = [i for i, s in shapes.items() if len(s) == 2 and boxes and s[1] == shapes[boxes[0]][1]]
    counts = [i for i, s in shapes.items() if int(np.prod(s)) == 1 and i not in pairs]
    if len(details) != 4 or len(boxes) != 1 or len(counts) != 1 or len(pairs) != 2:
        found = ", ".join(f"{d['name']} {list(shapes[d['index']])}" for d in details)
        raise ModelError(
            f"model {path} does not end in an SSD postprocess (TFLite_Detection_PostProcess: "
            f"boxes [1,N,4], classes [1,N], scores [1,N], count [1]); its outputs are: {found}"
        )
    classes, scores = _classes_and_scores(interpreter, details, pairs)
    return OutputSpec(boxes=boxes[0], classes=classes, scores=scores, count=counts[0])


def _classes_and_scores(interpreter: Any, details: list[Any], pairs: list[int]) -> tuple[int, int]:
    """Tell the [1,N] class-id output from the score output.

    TF1 converters name them ``...PostProcess:1`` (classes) and ``:2`` (scores); TF2 converters
    use other names and orders, so fall back to the values after a probe invoke: class ids are
    whole numbers, scores are fractions.
    """
    names = {d["index"]: str(d["name"]) for d in details}
    by_suffix = {names[i].rsplit(":", 1)[-1]: i for i in pairs}
    if "PostProcess" in names[pairs[0]] and {"1", "2"} <= by_suffix.keys():
        return by_suffix["1"], by_suffix["2"]
    a, b = (interpreter.get_tensor(i) for i in pairs)
    a_whole = bool(np.all(np.equal(np.mod(a, 1), 0)))
    b_whole = bool(np.all(np.equal(np.mod(b, 1), 0)))
    if a_whole and not b_whole:
        return pairs[0], pairs[1]
    if b_whole and not a_whole:
        return pairs[1], pairs[0]
    if float(np.max(a)) > 1.0 >= float(np.max(b)):
        return pairs[0], pairs[1]
    if float(np.max(b)) > 1.0 >= float(np.max(a)):
        return pairs[1], pairs[0]
    # TF2's order (scores first) when a probe cannot tell, e.g. an all-zero result.
    return pairs[1], pairs[0]


def count_classes(interpreter: Any) -> int | None:
    """Classes the model predicts, from its class-prediction tensor ([1, anchors, classes + 1])."""
    try:
        tensors = interpreter.get_tensor_details()
    except (ValueError, RuntimeError):
        return None
    shapes = [tuple(int(v) for v in t["shape"]) for t in tensors]
    anchors = {s[1] for s in shapes if len(s) == 3 and s[0] == 1 and s[2] == 4 and s[1] > 100}
    candidates = [s[2] for s in shapes if len(s) == 3 and s[1] in anchors and s[2] > 4]
    if len(set(candidates)) != 1:
        return None
    return candidates[0] - 1  # one column is the background class


def read_anchors(interpreter: Any) -> NDArray[np.float32] | None:
    """The SSD anchors as ``(ymin, xmin, ymax, xmax)`` rows, or None if none can be found.

    The postprocess op takes them as a constant ``[anchors, 4]`` tensor of centre-size rows
    ``(ycenter, xcenter, height, width)``, quantized in uint8 models.
    """
    try:
        tensors = interpreter.get_tensor_details()
    except (ValueError, RuntimeError):
        return None
    encodings = {
        int(t["shape"][1])
        for t in tensors
        if len(t["shape"]) == 3 and t["shape"][0] == 1 and t["shape"][2] == 4
    }
    for t in tensors:
        shape = tuple(int(v) for v in t["shape"])
        if len(shape) != 2 or shape[1] != 4 or shape[0] not in encodings:
            continue
        try:
            raw = interpreter.get_tensor(t["index"]).astype(np.float32)
        except ValueError:
            continue
        scale, zero = t["quantization"]
        centre = (raw - zero) * scale if scale else raw
        yc, xc, h, w = centre.T
        return np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], axis=1)
    return None
