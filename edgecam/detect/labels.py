"""Label files: Coral's ``id  label`` form and the plain one-label-per-line form."""

from __future__ import annotations

import re
from pathlib import Path

from edgecam.errors import ModelError

_ID_LINE = re.compile(r"^\s*(\d+)[\s:,]+(\S.*?)\s*$")


def parse_labels(text: str, source: str = "<labels>") -> dict[int, str]:
    """Map class ids to names; ids come from the file (``0  person``) or from the line order."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ModelError(f"label file {source} is empty; give one label per line or 'id label'")
    matches = [_ID_LINE.match(line) for line in lines]
    if all(matches):
        labels: dict[int, str] = {}
        for match in matches:
            assert match is not None
            class_id = int(match.group(1))
            if class_id in labels:
                raise ModelError(f"label file {source}: class id {class_id} appears twice")
            labels[class_id] = match.group(2)
        return labels
    if any(matches) and sum(1 for m in matches if m) > len(lines) // 2:
        bad = next(line for line, m in zip(lines, matches, strict=True) if not m)
        raise ModelError(f"label file {source}: line {bad!r} lacks the class id the others have")
    return {index: line.strip() for index, line in enumerate(lines)}


def read_labels(path: Path) -> dict[int, str]:
    """Read and parse a label file; a missing or unreadable file is a :class:`ModelError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ModelError(f"label file {path} not found; check model.labels") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"cannot read label file {path}: {err}") from err
    return parse_labels(text, str(path))


def check_labels_fit(labels: dict[int, str], num_classes: int | None, source: str) -> None:
    """Raise :class:`ModelError` when the label ids cannot be the model's class ids."""
    if num_classes is None:
        return
    top = max(labels)
    if top >= num_classes:
        raise ModelError(
            f"label file {source} has class ids up to {top}, but the model predicts "
            f"{num_classes} classes (0..{num_classes - 1}); use the label file made for this model"
        )
    if len(labels) == top + 1 and len(labels) < num_classes * 0.95:
        raise ModelError(
            f"label file {source} lists {len(labels)} labels without ids, but the model predicts "
            f"{num_classes} classes, so names would be shifted; use a label file with "
            "'id label' lines (like models/coco_labels.txt) or one line per class id"
        )
