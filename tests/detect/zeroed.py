"""A broken model for the known-answer check: the bundled COCO model with its last layers zeroed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgecam import bundled
from edgecam.detect import flatbuffer as fb

_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def zeroed_model(out: Path, source: Path | None = None) -> Path:
    """Write ``source`` (default: the int8 COCO model) with every box and class head zeroed.

    The convolutions that feed the postprocess op (through reshapes, concatenations and the
    logistic) get all-zero weights and biases, so the network's outputs are all zero: every
    score sigmoid(0) = 0.5 and every box its anchor, as the issue saw under qemu. The int8
    model's weights are symmetric (zero point 0), so zero bytes are zero values.
    """
    raw = bytearray((source or bundled.model_file(bundled.INT8_MODEL)).read_bytes())
    model = fb.read_model(bytes(raw))
    graph = model.subgraphs[0]
    names = fb.op_names(model)
    producer = {t: i for i, op in enumerate(graph.operators) for t in op.outputs}
    post = graph.operators[names.index(fb.POSTPROCESS_OP.decode())]
    stack, seen, zeroed = list(post.inputs[:2]), set(), 0
    while stack:
        index = producer.get(stack.pop())
        if index is None or index in seen:
            continue
        seen.add(index)
        op = graph.operators[index]
        if names[index] not in _CONVS:
            stack.extend(op.inputs)
            continue
        for tensor in op.inputs[1:]:  # the constants: weights and bias
            if tensor >= 0:
                _zero_buffer(raw, model.buffers[graph.tensors[tensor].buffer])
        zeroed += 1
    assert zeroed >= 12, zeroed  # six feature maps, a box and a class head each
    out.write_bytes(bytes(raw))
    return out


def _zero_buffer(raw: bytearray, buffer: Any) -> None:
    """Zero a constant's bytes in place in the file (the model's layout stays as it is)."""
    if buffer.offset > 1:  # stored after the flatbuffer, at an offset
        raw[buffer.offset : buffer.offset + buffer.size] = bytes(buffer.size)
    elif buffer.data is not None and len(buffer.data):
        data = np.asarray(buffer.data, np.uint8).tobytes()
        start = raw.find(data)
        assert start >= 0 and raw.find(data, start + 1) < 0, "constant not found once"
        raw[start : start + len(data)] = bytes(len(data))
