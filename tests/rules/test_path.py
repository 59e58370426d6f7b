"""Rules over a track's path: zones it went through, in order, and how far it moved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from edgecam.config import parse_config
from edgecam.errors import ConfigError
from edgecam.types import Detection
from tests.rules.scripted import brief, engine, every, obj, run

Script = list[tuple[float, Sequence[Detection]]]

# Left to right: the walkway (x < 0.5), then the door (x > 0.7).
AREAS = {
    "zones": {
        "walkway": {"polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]},
        "door": {"polygon": [[0.7, 0.0], [1.0, 0.0], [1.0, 1.0], [0.7, 1.0]]},
    }
}


def walk(x0: float, x1: float, steps: int = 10) -> Script:
    """One person walking from ``x0`` to ``x1`` over ``steps`` half-second frames."""
    return [(i * 0.5, [obj(x0 + (x1 - x0) * i / (steps - 1), 0.8)]) for i in range(steps)]


def starts(path: Mapping[str, object], script: Script, zone: str | None = "door") -> list[int]:
    rule = {"name": "arrived", "kind": "presence", "zone": zone, "path": path}
    return [seq for kind, seq in brief(run(engine([rule], AREAS), script)) if kind == "start"]


def test_walkway_then_door_in_that_order() -> None:
    ordered = {"zones": ["walkway", "door"]}
    assert starts(ordered, walk(0.1, 0.9)) == [8]  # in the door from frame 8 (2 inertia frames)
    assert starts(ordered, walk(0.8, 0.95)) == []  # never on the walkway
    # Anywhere in the frame, once both zones were visited: in order, or in any order.
    assert starts(ordered, walk(0.9, 0.1), zone=None) == []  # the door first
    assert starts({**ordered, "ordered": False}, walk(0.9, 0.1), zone=None) == [6]


def test_minimum_distance_moved_keeps_still_false_detections_out() -> None:
    still = every(0.5, 5.0, [obj(0.85, 0.8)])  # a poster in the door, detected as a person
    assert starts({"min_distance": 0.1}, still) == []
    assert starts({"min_distance": 0.1}, walk(0.6, 0.9)) != []


def test_a_line_counts_only_people_who_came_along_the_walkway() -> None:
    areas = {**AREAS, "lines": {"gate": {"points": [[0.6, 0.0], [0.6, 1.0]]}}}
    rule = {"name": "via", "kind": "line", "line": "gate", "path": {"zones": ["walkway"]}}
    assert [e.direction for e in run(engine([rule], areas), walk(0.1, 0.9))] == ["out"]
    assert run(engine([rule], areas), walk(0.55, 0.9)) == []


def test_path_zones_must_exist_on_the_camera() -> None:
    text = """
cameras:
  porch:
    source: {type: file, path: clip.avi}
    zones: {walkway: {polygon: [[0, 0], [1, 0], [1, 1]]}}
rules:
  - {name: r, kind: presence, camera: porch, path: {zones: [walkway, dor]}}
"""
    with pytest.raises(ConfigError, match=r"rules\.0\.path\.zones\.1.*no zone 'dor'"):
        parse_config(text, "test.yaml")
