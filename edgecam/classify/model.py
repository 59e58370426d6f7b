"""Open a TFLite image classifier, check its contract, and classify crops.

A classifier has one image input ``[1, H, W, 3]`` (uint8, int8 or float32) and one output
``[1, N]``: probabilities (a softmax at the end) or logits. Its class file names the N classes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edgecam.errors import ModelError

_SCIENTIFIC = re.compile(r"^\s*([A-Z][a-z]+(?: [a-z-]+){1,2})\s*\((.+)\)\s*$")
"""iNaturalist's ``Genus species (Common Name)``."""

IGNORED = frozenset({"background", "unknown", ""})
"""Class names that are never a sub label: the no-object class of many classifiers."""


@dataclass(frozen=True, slots=True)
class ClassName:
    """One class: the name shown (a bird's common name) and the scientific name, if known."""

    name: str
    scientific: str | None = None


def parse_class_name(text: str) -> ClassName:
    """``Poecile atricapillus (Black-capped Chickadee)`` -> common name + scientific name."""
    if (match := _SCIENTIFIC.match(text)) is not None:
        return ClassName(match.group(2).strip(), match.group(1))
    return ClassName(text.strip())


def read_classes(path: Path, outputs: int) -> list[ClassName]:
    """The class names of a classifier with ``outputs`` classes; ModelError if they do not fit."""
    from edgecam.detect.labels import read_labels

    labels = read_labels(path)
    top = max(labels)
    plain = len(labels) == top + 1
    if top >= outputs or (plain and len(labels) != outputs):
        raise ModelError(
            f"class file {path} names {len(labels)} classes (ids up to {top}), but the model "
            f"has {outputs} outputs; use the class file made for this model"
        )
    return [parse_class_name(labels.get(i, "")) for i in range(outputs)]


@dataclass(frozen=True, slots=True)
class InputContract:
    """How pixels become the model's input: size, type and a 256-entry lookup table."""

    index: int
    height: int
    width: int
    table: NDArray[Any]
    """``table[pixel]`` is the input value for that pixel (pixel - 128) / 128, quantized."""


def read_contract(interpreter: Any, path: Path) -> tuple[InputContract, int, int]:
    """The input contract, the output tensor index and the number of classes; ModelError if
    the model is not an image classifier (an SSD detector has four outputs)."""
    inputs = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    if len(outputs) != 1 or len(inputs) != 1:
        found = ", ".join(f"{d['name']} {[int(v) for v in d['shape']]}" for d in outputs)
        what = " (an SSD detector: give it as model.path)" if len(outputs) == 4 else ""
        raise ModelError(
            f"model {path} is not an image classifier{what}: a classifier has one input and one "
            f"[1, classes] output; its outputs are: {found}"
        )
    shape = [int(v) for v in outputs[0]["shape"]]
    if len(shape) != 2 or shape[0] != 1 or shape[1] < 2:
        raise ModelError(
            f"model {path} is not an image classifier: its output is {shape}, not [1, classes]"
        )
    d = inputs[0]
    ishape = [int(v) for v in d["shape"]]
    if len(ishape) != 4 or ishape[0] != 1 or ishape[3] != 3:
        raise ModelError(f"model {path} input shape {ishape} is not [1, height, width, 3]")
    dtype = np.dtype(d["dtype"])
    real = (np.arange(256, dtype=np.float64) - 128.0) / 128.0
    if dtype == np.float32:
        table = real.astype(np.float32)
    elif dtype in (np.uint8, np.int8):
        scale, zero = d["quantization"]
        info = np.iinfo(dtype)
        table = np.clip(np.round(real / (scale or 1.0 / 128) + zero), info.min, info.max)
        table = table.astype(dtype)
    else:
        raise ModelError(f"model {path} input type is {dtype.name}; give uint8, int8 or float32")
    return InputContract(d["index"], ishape[1], ishape[2], table), outputs[0]["index"], shape[1]


def plain_interpreter(path: Path, data: bytes | None = None) -> Any:
    """The model on the plain CPU kernels (no XNNPACK weight packing: it loads fast, and its
    operators keep their names)."""
    from edgecam.detect.model import check_model_file
    from edgecam.detect.runtime import plain_interpreter as load

    return load(path, data if data is not None else check_model_file(path))


PROBABILITY_OPS = frozenset({"SOFTMAX", "LOGISTIC"})
"""Last operators whose output is already probabilities (anything else: logits)."""


PASS_THROUGH_OPS = frozenset({"DEQUANTIZE", "QUANTIZE", "RESHAPE", "SQUEEZE"})
"""Operators after the softmax that keep its meaning (an int8 rebuild dequantizes its output)."""


def ends_in_probabilities(interpreter: Any, output: int) -> bool:
    """True when the output comes out of a softmax (or sigmoid); False: logits."""
    try:
        ops = interpreter._get_ops_details()
    except (AttributeError, ValueError, RuntimeError):  # a runtime without it: judge by values
        return False
    producers = {int(t): op for op in ops for t in op["outputs"]}
    tensor = output
    for _ in range(len(ops)):
        op = producers.get(tensor)
        if op is None:
            return False
        if op["op_name"] in PROBABILITY_OPS:
            return True
        if op["op_name"] not in PASS_THROUGH_OPS or len(op["inputs"]) == 0:
            return False
        tensor = int(op["inputs"][0])
    return False


def to_probabilities(
    raw: NDArray[Any], scale: float, zero: int, probabilities: bool
) -> NDArray[np.float32]:
    """The output as probabilities: dequantized, and through a softmax when it holds logits.

    Quantized probabilities do not sum to 1 (small ones round to 0); they are used as they are,
    so a class's score is what the model said.
    """
    values = raw.astype(np.float32).reshape(-1)
    if scale:
        values = (values - zero) * scale
    if probabilities:
        return values
    exp = np.exp(values - values.max())
    return exp / exp.sum()  # type: ignore[no-any-return]


class Classifier:
    """One loaded classifier; :meth:`classify` is called from one thread at a time."""

    def __init__(self, path: Path, classes_path: Path, threads: int = 1) -> None:
        from edgecam.detect.model import check_model_file
        from edgecam.detect.runtime import find_runtime

        data = check_model_file(path)
        runtime = find_runtime()
        try:
            self._interpreter = runtime.interpreter_class(model_content=data, num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"model file {path} cannot be loaded: {err}") from err
        self.input, self._output, outputs = read_contract(self._interpreter, path)
        self.classes = read_classes(classes_path, outputs)
        detail = self._interpreter.get_output_details()[0]
        self._out_scale, self._out_zero = detail["quantization"]
        # Judged on the plain kernels: XNNPACK replaces the operators with its own nodes.
        self.probabilities = ends_in_probabilities(plain_interpreter(path, data), self._output)
        """True when the model outputs probabilities; False: logits, put through a softmax."""
        self._buffer = np.empty((1, self.input.height, self.input.width, 3), self.input.table.dtype)
        self.last_ms = 0.0

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` the crops must have."""
        return self.input.width, self.input.height

    def classify(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Probabilities of every class for one RGB crop of :attr:`size`."""
        np.take(self.input.table, rgb, out=self._buffer[0])
        start = time.perf_counter()
        self._interpreter.set_tensor(self.input.index, self._buffer)
        self._interpreter.invoke()
        self.last_ms = (time.perf_counter() - start) * 1000.0
        raw = self._interpreter.get_tensor(self._output)
        return to_probabilities(
            raw, float(self._out_scale), int(self._out_zero), self.probabilities
        )
