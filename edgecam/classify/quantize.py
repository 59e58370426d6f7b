"""``edgecam quantize`` for classifiers: a uint8 or float image classifier to int8.

The same recipe as for detectors (``edgecam.detect.quantize``): symmetric per-channel int8
weights, int8 activations, the input pinned to [-1, 1) (int8 ``pixel - 128``), the output left
float. A uint8 model lends its own activation ranges, so it needs no calibration; a float model
is calibrated on crops (``--calibration``: images of the objects, each taken whole). The new
model's top-1 class is compared with the input model's on the calibration crops, or on frames of
the demo clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecam import bundled
from edgecam.classify.config import CLASSIFIERS
from edgecam.classify.model import plain_interpreter, read_contract
from edgecam.detect import flatbuffer as fb
from edgecam.detect.frames import read_frames
from edgecam.detect.model import check_model_file, is_edgetpu_model
from edgecam.errors import ConfigError, ModelError
from edgecam.types import Image

SURE = 0.5
"""A top-1 probability above which a flip of the top-1 class matters (below, it is a coin toss)."""


@dataclass(frozen=True, slots=True)
class ClassifierResult:
    """What was made, and on how many images both models gave the same top-1 class."""

    source_type: str
    output: Path
    size: int
    frames: int
    compared: int
    same_top1: int
    sure: int
    """Images on which the input model's top-1 probability is at least ``SURE``."""
    same_sure: int


def is_classifier(path: Path) -> bool:
    """True when the model at ``path`` has the image classifier's contract (one [1, N] output)."""
    try:
        read_contract(plain_interpreter(path), path)
    except ModelError:
        return False
    return True


def resolve(model: str) -> Path | None:
    """The file of a built-in classifier name, else None."""
    builtin = CLASSIFIERS.get(model)
    if builtin is None:
        return None
    return bundled.model_file(builtin.source_file or builtin.file)


def _top1(data: bytes, images: Sequence[Image]) -> list[tuple[int, float]]:
    """The top-1 class and its output of each image (taken whole, stretched) under ``data``."""
    import cv2

    from edgecam.classify.model import InputContract
    from edgecam.detect.runtime import find_runtime

    interpreter = find_runtime().interpreter_class(model_content=data, num_threads=2)
    interpreter.allocate_tensors()
    contract: InputContract
    contract, output, _ = read_contract(interpreter, Path("<model>"))
    out = []
    for image in images:
        rgb = cv2.cvtColor(cv2.resize(image, (contract.width, contract.height)), cv2.COLOR_BGR2RGB)
        interpreter.set_tensor(contract.index, contract.table[rgb][None])
        interpreter.invoke()
        values = interpreter.get_tensor(output).reshape(-1)
        scale, zero = interpreter.get_output_details()[0]["quantization"]
        best = int(np.argmax(values))
        out.append((best, (float(values[best]) - zero) * scale if scale else float(values[best])))
    return out


def quantize_classifier(
    source: Path, calibration: Sequence[Path], output: Path, per_video: int = 100
) -> ClassifierResult:
    """Write the int8 build of the classifier ``source`` to ``output`` and compare top-1."""
    from edgecam.detect.quantize import quantized_ranges, run_quantizer, write_atomically

    data = check_model_file(source)
    if is_edgetpu_model(data):
        raise ModelError(f"model {source} is compiled for the Edge TPU; give its CPU build")
    model = fb.read_model(data)
    kind = fb.input_type(model)
    if kind == "float32" and not calibration:
        raise ConfigError(
            f"model {source} is a float classifier: give --calibration with crops of the objects "
            "it classifies (its activation ranges come from them)"
        )
    frames = read_frames(calibration, per_video) if calibration else []
    if calibration and not frames:
        raise ConfigError("the calibration sources hold no readable images; add real crops")
    reference = quantized_ranges(model) if kind != "float32" else {}
    float_model = fb.write_model(fb.add_signature(fb.dequantize(model) if reference else model))
    quantized = run_quantizer(float_model, frames, reference)
    write_atomically(output, quantized)
    compare = frames or read_frames([bundled.demo_clip()], per_video)
    before, after = _top1(data, compare), _top1(quantized, compare)
    same = [a[0] == b[0] for a, b in zip(before, after, strict=True)]
    sure = [a[1] >= SURE for a in before]
    return ClassifierResult(
        kind, output, len(quantized), len(frames), len(compare), sum(same), sum(sure),
        sum(1 for s, u in zip(same, sure, strict=True) if s and u),
    )  # fmt: skip


def quantize_classifier_command(
    source: Path, calibration: Sequence[Path], output: Path, per_video: int
) -> int:
    """Build, then print what was made and how often the top-1 class stayed the same."""
    if output.resolve() == source.resolve():
        raise ConfigError(f"-o {output} would overwrite the input model; name another file")
    result = quantize_classifier(source, calibration, output, per_video)
    where = f"{result.frames} calibration crops" if result.frames else "the input model's ranges"
    print(f"wrote {output}: int8 from {result.source_type}, {result.size / 1e6:.1f} MB, {where}")
    print(
        f"against {source.name}: the same top-1 class on {result.same_top1} of "
        f"{result.compared} images, on {result.same_sure} of the {result.sure} where it is sure "
        f"(top-1 >= {SURE}; a softmax output, as the built-ins have)"
    )
    return 0
