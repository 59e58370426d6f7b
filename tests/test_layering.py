"""Layering: the stages import each other one way only (statically, TYPE_CHECKING included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "edgecam"


def _imports() -> dict[str, set[str]]:
    """Module -> the edgecam modules it imports anywhere in its source."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m.startswith("edgecam.")}
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module == goal:
            return True
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return False


def test_no_import_cycle_between_config_and_rules() -> None:
    graph = _imports()
    config = [m for m in graph if m.startswith("edgecam.config")]
    rules = [m for m in graph if m.startswith("edgecam.rules")]
    cycles = [
        (c, r) for c in config for r in rules if _reaches(graph, c, r) and _reaches(graph, r, c)
    ]
    assert cycles == []
    # The rules read a camera's config through a protocol, never the config root.
    assert not any("edgecam.config.models" in graph[r] for r in rules)


def test_one_mapping_of_normalised_points_to_pixels() -> None:
    sources = {p.relative_to(PACKAGE.parent): p.read_text() for p in PACKAGE.rglob("*.py")}
    mapping = [str(p) for p, text in sources.items() if re.search(r"\* \((w|width) - 1\)", text)]
    assert mapping == ["edgecam/service/annotate.py"], mapping
