"""Run any SSD model (float, uint8 or int8 input) over frames: for comparing model builds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgecam.detect.compare import MATCH_SCORE
from edgecam.detect.decode import decode
from edgecam.detect.model import read_outputs
from edgecam.detect.preprocess import fill_input, make_scratch, place
from edgecam.detect.runtime import find_runtime
from edgecam.errors import ModelError
from edgecam.types import Detection, Image


def run_model(
    model: bytes, frames: Sequence[Image], threads: int = 2, threshold: float = MATCH_SCORE
) -> list[list[Detection]]:
    """Each frame's detections (labels ``class<id>``), frames stretched to the model input.

    Float inputs get ``(pixel - 128) / 128``, int8 inputs ``pixel - 128``, uint8 the pixel.
    """
    runtime = find_runtime()
    try:
        interpreter = runtime.interpreter_class(model_content=model, num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise ModelError(f"the model cannot be loaded: {str(err).strip()[:200]}") from err
    (detail,) = interpreter.get_input_details()
    _, height, width, _ = (int(v) for v in detail["shape"])
    dtype = detail["dtype"]
    interpreter.invoke()  # the class/score outputs are told apart after an invoke
    outputs = read_outputs(interpreter, Path("<model>"))
    rgb = np.empty((height, width, 3), np.uint8)
    results = []
    for frame in frames:
        placement = place(frame.shape[1], frame.shape[0], width, height, "stretch")
        fill_input(frame, rgb, placement, make_scratch(placement))
        if dtype == np.float32:
            interpreter.set_tensor(detail["index"], ((rgb - np.float32(128.0)) / 128.0)[None])
        elif dtype == np.int8:
            interpreter.set_tensor(detail["index"], (rgb ^ 0x80).view(np.int8)[None])
        else:
            interpreter.set_tensor(detail["index"], rgb[None])
        interpreter.invoke()
        get = interpreter.get_tensor
        found = decode(
            get(outputs.boxes)[0], get(outputs.classes)[0], get(outputs.scores)[0],
            int(get(outputs.count).flat[0]), labels={}, threshold=threshold, min_scores={},
            placement=placement,
        )  # fmt: skip
        results.append(found)
    return results
