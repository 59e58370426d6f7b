"""Append TFLite_Detection_PostProcess to the cut SSDLite graph: a float SSD model edgecam runs.

Run in edgecam's own venv (no TensorFlow), after ``ssdlite_convert.py``:

    .venv/bin/python models/tools/ssdlite_postprocess.py OUT_DIR/ssdlite_cut.tflite \\
        OUT_DIR/anchors.npy OUT_DIR/ssdlite_float.tflite

Adds RESHAPE (box encodings [1,N,1,4] -> [1,N,4]), LOGISTIC (the class logits are sigmoid
scores, as the Object Detection API's SSD uses them) and the postprocess op with the graph's
anchors and the API's box coder scales (y, x 10; h, w 5), fast NMS at IoU 0.6 like Coral's COCO
model, and at most 50 detections (crowds: the people model is for counting).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import flexbuffers

from edgecam.detect import flatbuffer as fb

MAX_DETECTIONS = 50
OPTIONS = {
    "max_detections": MAX_DETECTIONS,
    "max_classes_per_detection": 1,
    "detections_per_class": 100,
    "use_regular_nms": False,
    "nms_score_threshold": 1e-8,
    "nms_iou_threshold": 0.6,
    "y_scale": 10.0,
    "x_scale": 10.0,
    "h_scale": 5.0,
    "w_scale": 5.0,
}


def _tensor(model: Any, name: str, shape: list[int], kind: int, data: bytes | None = None) -> int:
    graph = model.subgraphs[0]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(data, np.uint8) if data is not None else None
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.name = name.encode()
    tensor.shape = np.array(shape, np.int32)
    tensor.type = kind
    tensor.buffer = len(model.buffers) - 1
    graph.tensors.append(tensor)
    return len(graph.tensors) - 1


def _opcode(model: Any, builtin: int, custom: bytes | None = None) -> int:
    for i, code in enumerate(model.operatorCodes):
        same = max(code.builtinCode, code.deprecatedBuiltinCode) == builtin
        if same and code.customCode == custom:
            return i
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127)
    code.customCode = custom
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _op(model: Any, opcode: int, inputs: list[int], outputs: list[int], **fields: Any) -> Any:
    op = schema.OperatorT()
    op.opcodeIndex = opcode
    op.inputs = np.array(inputs, np.int32)
    op.outputs = np.array(outputs, np.int32)
    for key, value in fields.items():
        setattr(op, key, value)
    model.subgraphs[0].operators.append(op)
    return op


def append_postprocess(model: Any, anchors: np.ndarray) -> Any:
    """Replace the raw outputs (box encodings, class logits) with the postprocess outputs."""
    graph = model.subgraphs[0]
    boxes_raw, logits = (int(i) for i in graph.outputs)
    count, classes = int(anchors.shape[0]), int(graph.tensors[logits].shape[-1])
    f32 = schema.TensorType.FLOAT32
    shape = np.array([1, count, 4], np.int32)
    shape_tensor = _tensor(model, "Squeeze/shape", [3], schema.TensorType.INT32, shape.tobytes())
    boxes = _tensor(model, "Squeeze", [1, count, 4], f32)
    reshape = schema.ReshapeOptionsT()
    reshape.newShape = shape
    reshape_op = _opcode(model, schema.BuiltinOperator.RESHAPE)
    kind = schema.BuiltinOptions.ReshapeOptions
    _op(model, reshape_op, [boxes_raw, shape_tensor], [boxes],
        builtinOptionsType=kind, builtinOptions=reshape)  # fmt: skip
    scores = _tensor(model, "convert_scores", [1, count, classes], f32)
    _op(model, _opcode(model, schema.BuiltinOperator.LOGISTIC), [logits], [scores])
    anchor_tensor = _tensor(model, "anchors", [count, 4], f32, anchors.astype(np.float32).tobytes())
    name = fb.POSTPROCESS_OP.decode()
    outs = [
        _tensor(model, name, [1, MAX_DETECTIONS, 4], f32),
        _tensor(model, f"{name}:1", [1, MAX_DETECTIONS], f32),
        _tensor(model, f"{name}:2", [1, MAX_DETECTIONS], f32),
        _tensor(model, f"{name}:3", [1], f32),
    ]
    options = flexbuffers.Dumps({**OPTIONS, "num_classes": classes - 1})  # minus background
    custom = _opcode(model, schema.BuiltinOperator.CUSTOM, fb.POSTPROCESS_OP)
    _op(model, custom, [boxes, scores, anchor_tensor], outs,
        customOptions=np.frombuffer(bytes(options), np.uint8),
        customOptionsFormat=schema.CustomOptionsFormat.FLEXBUFFERS)  # fmt: skip
    graph.outputs = np.array(outs, np.int32)
    model.signatureDefs = []
    return model


def main(cut: Path, anchors: Path, out: Path) -> None:
    model = fb.read_model(cut.read_bytes())
    for code in model.operatorCodes:
        code.builtinCode = max(code.builtinCode, code.deprecatedBuiltinCode)
    out.write_bytes(fb.write_model(append_postprocess(model, np.load(anchors))))
    print(f"{out}: float SSDLite with TFLite_Detection_PostProcess")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
