"""``edgecam models``: the built-in models with labels, input, quantization, size and speed."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from edgecam import bundled
from edgecam.detect import flatbuffer as fb
from edgecam.detect.labels import read_labels
from edgecam.detect.model import check_model_file


def quantization(path: Path) -> str:
    """How the weights and activations are quantized, read from the model file."""
    model = fb.read_model(check_model_file(path))
    graph = model.subgraphs[0]
    weights = [
        t
        for op, name in zip(graph.operators, fb.op_names(model), strict=True)
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D")
        for t in (graph.tensors[op.inputs[1]],)
    ]
    kind = fb.input_type_of(weights[0]) if weights else fb.input_type(model)
    quant = [t.quantization for t in weights if t.quantization is not None]
    if not quant or quant[0].scale is None:
        return "float32"
    per_channel = any(len(q.scale) > 1 for q in quant)
    symmetric = all(int(z) == 0 for q in quant for z in q.zeroPoint)
    return (
        f"{kind} weights {'symmetric' if symmetric else 'asymmetric'} "
        f"{'per-channel' if per_channel else 'per-tensor'}, {kind} activations"
    )


def invoke_ms(path: Path, threads: int = 2, iterations: int = 30) -> float:
    """Median ms of a bare CPU invoke of the model (after a few warm-up invokes)."""
    from edgecam.detect.runtime import find_runtime

    runtime = find_runtime()
    interpreter = runtime.interpreter_class(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    times = []
    for i in range(iterations + 3):
        start = time.perf_counter()
        interpreter.invoke()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def known_answer(builtin: bundled.BuiltinModel) -> str:
    """The known-answer check of the built-in on this machine's CPU, as one line."""
    from edgecam.detect.choose import expected_for
    from edgecam.detect.config import ModelConfig
    from edgecam.detect.detector import Detector
    from edgecam.detect.selfcheck import run_check

    config = ModelConfig(name=builtin.name, device="cpu")
    detector = Detector.from_config(config, device="cpu")
    try:
        return run_check(detector, expected_for(config)).line
    finally:
        detector.close()


def describe(builtin: bundled.BuiltinModel, timed: bool = True) -> dict[str, object]:
    """One built-in as a JSON-able row (``invoke_ms`` on this machine's CPU, 2 threads)."""
    path = bundled.model_file(builtin.cpu_file)
    labels = read_labels(bundled.model_file(builtin.labels_file))
    model = fb.read_model(check_model_file(path))
    graph = model.subgraphs[0]
    shape = [int(v) for v in graph.tensors[graph.inputs[0]].shape]
    row: dict[str, object] = {
        "name": builtin.name,
        "default": builtin.name == bundled.DEFAULT_MODEL,
        "summary": builtin.summary,
        "file": builtin.cpu_file,
        "edgetpu_file": builtin.edgetpu_file,
        "labels": len(labels),
        "label_names": sorted(set(labels.values()), key=list(labels.values()).index),
        "input": f"{fb.input_type(model)} {'x'.join(map(str, shape[1:]))}",
        "quantization": quantization(path),
        "size_mb": round(path.stat().st_size / 1e6, 2),
        "check": known_answer(builtin),
    }
    if timed:
        row["invoke_ms"] = round(invoke_ms(path), 2)
    return row


def format_rows(rows: list[dict[str, object]]) -> str:
    """The rows as a readable block, one paragraph per model."""
    out = []
    for row in rows:
        names = list(row["label_names"])  # type: ignore[call-overload]
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        lines = [
            f"{row['name']}{' (default)' if row['default'] else ''}: {row['summary']}",
            f"  file:         {row['file']} ({row['size_mb']} MB)",
            f"  labels:       {row['labels']} ({shown})",
            f"  input:        {row['input']}",
            f"  quantization: {row['quantization']}",
            f"  check:        {row['check']} (known-answer image, this CPU)",
        ]
        if "invoke_ms" in row:
            lines.append(f"  invoke:       {row['invoke_ms']} ms on this CPU (2 threads)")
        if row["edgetpu_file"]:
            lines.append(f"  Edge TPU:     {row['edgetpu_file']} (Coral's uint8 build)")
        out.append("\n".join(lines))
    return "\n\n".join(out)
