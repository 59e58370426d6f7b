"""Rewrite TFLite flatbuffers: a quantized SSD model back to float, with a serving signature.

Uses the schema module that ``ai-edge-litert`` ships (``ai_edge_litert.schema_py_generated``), so no
TensorFlow is needed. Build-time only: the service never imports this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecam.errors import ModelError

POSTPROCESS_OP = b"TFLite_Detection_PostProcess"
SIGNATURE = "serving_default"
_RELU6_TOP = 6.05  # an output range [0, 6] (to rounding) is what a fused ReLU6 leaves behind


def _schema() -> tuple[Any, Any]:
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    return schema, flatbuffer_utils


def read_model(data: bytes) -> Any:
    """The object form (``ModelT``) of a TFLite flatbuffer."""
    _, fu = _schema()
    return fu.convert_bytearray_to_object(bytearray(data))


def write_model(model: Any) -> bytes:
    """Serialise a ``ModelT`` back to flatbuffer bytes."""
    _, fu = _schema()
    return bytes(fu.convert_object_to_bytearray(model))


def op_names(model: Any) -> list[str]:
    """The name of every operator of the main subgraph, in order (custom ops by their code)."""
    schema, _ = _schema()
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    names = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        if code.customCode:
            names.append(bytes(code.customCode).decode())
        else:
            names.append(builtin[max(code.builtinCode, code.deprecatedBuiltinCode)])
    return names


def has_postprocess(model: Any) -> bool:
    """True when the model ends in ``TFLite_Detection_PostProcess``."""
    return POSTPROCESS_OP.decode() in op_names(model)


def input_type(model: Any) -> str:
    """``uint8``, ``int8`` or ``float32``: the element type of the (first) image input."""
    graph = model.subgraphs[0]
    return input_type_of(graph.tensors[graph.inputs[0]])


def input_type_of(tensor: Any) -> str:
    """A tensor's element type in lower case: ``uint8``, ``int8``, ``float32``, ..."""
    schema, _ = _schema()
    names = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    return str(names[tensor.type])


def dequantize(model: Any) -> Any:
    """Turn a uint8/int8 quantized model into float32 in place (weights dequantized); return it.

    The integer kernels clamp each output to its quantized range, and TOCO leaves ReLU6 to that
    clamp (``fused_activation: NONE``), so a range starting at zero becomes a fused RELU6 (or
    RELU) again. The postprocess op takes float inputs just as well as quantized ones.
    """
    schema, _ = _schema()
    if len(model.subgraphs) != 1:
        raise ModelError(f"model has {len(model.subgraphs)} subgraphs; an SSD detector has one")
    for code in model.operatorCodes:
        # Old converters filled only the deprecated 8-bit field; tools that read builtin_code
        # (as the quantizer does) would take every op for ADD (code 0).
        code.builtinCode = max(code.builtinCode, code.deprecatedBuiltinCode)
    graph = model.subgraphs[0]
    _restore_activations(schema, graph)
    for tensor in graph.tensors:
        _dequantize_tensor(schema, model, tensor)
    return model


def _restore_activations(schema: Any, graph: Any) -> None:
    none = schema.ActivationFunctionType.NONE
    for op in graph.operators:
        options = op.builtinOptions
        if getattr(options, "fusedActivationFunction", None) != none:
            continue
        quant = graph.tensors[op.outputs[0]].quantization
        if quant is None or quant.scale is None or len(quant.scale) != 1:
            continue
        qmin = -128 if graph.tensors[op.outputs[0]].type == schema.TensorType.INT8 else 0
        if int(quant.zeroPoint[0]) != qmin:
            continue
        top = float(quant.scale[0]) * 255
        kinds = schema.ActivationFunctionType
        options.fusedActivationFunction = kinds.RELU6 if top <= _RELU6_TOP else kinds.RELU


_INT_TYPES = {"UINT8": np.uint8, "INT8": np.int8, "INT32": np.int32, "INT16": np.int16}


def _dequantize_tensor(schema: Any, model: Any, tensor: Any) -> None:
    quant = tensor.quantization
    if quant is None or quant.scale is None or len(quant.scale) == 0:
        return
    type_names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    dtype = _INT_TYPES.get(type_names[tensor.type])
    if dtype is None:
        return
    buffer = model.buffers[tensor.buffer]
    if buffer.data is not None and len(buffer.data) > 0:
        raw = np.asarray(buffer.data, np.uint8).tobytes()
        values = np.frombuffer(raw, dtype).astype(np.float32).reshape(tensor.shape)
        scale = np.asarray(quant.scale, np.float32)
        zero = np.asarray(quant.zeroPoint, np.float32)
        if scale.size > 1:  # per-channel
            shape = [1] * values.ndim
            shape[quant.quantizedDimension] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        real = ((values - zero) * scale).astype(np.float32)
        buffer.data = np.frombuffer(real.tobytes(), np.uint8)
    tensor.type = schema.TensorType.FLOAT32
    tensor.quantization = None


def add_signature(model: Any) -> Any:
    """Give the model a ``serving_default`` signature (the quantizer calibrates through one)."""
    schema, _ = _schema()
    if model.signatureDefs:
        return model
    graph = model.subgraphs[0]

    def tensor_map(index: int) -> Any:
        entry = schema.TensorMapT()
        entry.name = bytes(graph.tensors[index].name).decode()
        entry.tensorIndex = index
        return entry

    signature = schema.SignatureDefT()
    signature.signatureKey = SIGNATURE
    signature.subgraphIndex = 0
    signature.inputs = [tensor_map(i) for i in graph.inputs]
    signature.outputs = [tensor_map(i) for i in graph.outputs]
    model.signatureDefs = [signature]
    return model


def input_quantization(model: Any) -> tuple[float, int] | None:
    """Scale and zero point of the image input, or ``None`` for a float input."""
    graph = model.subgraphs[0]
    quant = graph.tensors[graph.inputs[0]].quantization
    if quant is None or quant.scale is None or len(quant.scale) == 0:
        return None
    return float(quant.scale[0]), int(quant.zeroPoint[0])
