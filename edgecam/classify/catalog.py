"""``edgecam models``: the built-in classifiers with classes, input, size and invoke time."""

from __future__ import annotations

from edgecam import bundled
from edgecam.classify.config import BuiltinClassifier
from edgecam.classify.model import IGNORED, read_classes


def describe_classifier(builtin: BuiltinClassifier, timed: bool = True) -> dict[str, object]:
    """One built-in classifier as a JSON-able row (``invoke_ms``: this CPU, one thread)."""
    from edgecam.classify.model import plain_interpreter, read_contract
    from edgecam.detect.catalog import invoke_ms, quantization

    path = bundled.model_file(builtin.file)
    contract, _, outputs = read_contract(plain_interpreter(path), path)
    classes = read_classes(bundled.model_file(builtin.classes_file), outputs)
    names = [c.name for c in classes if c.name.lower() not in IGNORED]
    row: dict[str, object] = {
        "name": builtin.name,
        "kind": "classifier",
        "summary": builtin.summary,
        "file": builtin.file,
        "applies_to": list(builtin.labels),
        "classes": len(names),
        "class_names": names,
        "input": f"{contract.table.dtype.name} {contract.height}x{contract.width}x3",
        "quantization": quantization(path),
        "size_mb": round(path.stat().st_size / 1e6, 2),
    }
    if timed:
        row["invoke_ms"] = round(invoke_ms(path, threads=1), 2)
    return row


def format_classifiers(rows: list[dict[str, object]]) -> str:
    """The rows as a readable block, one paragraph per classifier."""
    out = []
    for row in rows:
        names = list(row["class_names"])  # type: ignore[call-overload]
        shown = "; ".join(names[:4]) + ("; ..." if len(names) > 4 else "")
        applies = ", ".join(list(row["applies_to"])) or "the labels you give"  # type: ignore[call-overload]
        lines = [
            f"{row['name']} (classifier): {row['summary']}",
            f"  file:         {row['file']} ({row['size_mb']} MB)",
            f"  classes:      {row['classes']} ({shown})",
            f"  applies to:   {applies}",
            f"  input:        {row['input']}",
            f"  quantization: {row['quantization']}",
        ]
        if "invoke_ms" in row:
            lines.append(f"  invoke:       {row['invoke_ms']} ms on this CPU (1 thread)")
        out.append("\n".join(lines))
    return "\n\n".join(out)
