"""Richer events: end events say how long and how sure; dwell and count events their figures."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edgecam.types import Detection
from tests.rules.scripted import engine, every, obj, run

Script = list[tuple[float, Sequence[Detection]]]
ZONES = {
    "zones": {
        "walkway": {"polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]},
        "door": {"polygon": [[0.6, 0.5], [1.0, 0.5], [1.0, 1.0], [0.6, 1.0]]},
    },
    "lines": {"gate": {"points": [[0.5, 0.2], [0.5, 0.9]]}},
}


def test_presence_end_carries_duration_start_id_max_score_and_zones() -> None:
    rule = {"name": "walk", "kind": "presence", "zone": "walkway", "off_delay": "2s"}
    script: Script = [
        (t * 0.5, [obj(0.3 + 0.05 * t, 0.8, score=0.6 + 0.02 * t)]) for t in range(10)
    ]
    events = run(engine([rule], ZONES), script + every(0.5, 8.0, [], 5.0))
    start, end = events
    assert (start.type, end.type) == ("start", "end")
    assert end.start_id == start.id and start.start_id is None
    # In the walkway from 0.5 s (2 inertia frames), last seen at 4.5 s, off 2 s later.
    assert end.duration == pytest.approx(6.5 - 0.5)
    assert end.max_score == pytest.approx(0.78)
    assert end.zones_visited == ("door", "walkway")
    payload = end.to_json()
    assert payload["zones_visited"] == ["door", "walkway"] and payload["start_id"] == start.id
    assert "duration" not in start.to_json() and "totals" not in payload


def test_dwell_events_carry_the_seconds_spent() -> None:
    rule = {"name": "loiter", "kind": "dwell", "zone": "walkway", "min_dwell": "3s"}
    walks_off: Script = [(8.0, [obj(0.3, 0.65)]), (9.0, [obj(0.3, 0.45)]), (10.0, [obj(0.3, 0.45)])]
    start, end = run(engine([rule], ZONES), every(1.0, 8.0, [obj(0.3, 0.8)]) + walks_off)
    assert start.dwell == pytest.approx(3.0)  # entered at 0 s (the inertia streak's start)
    assert (end.type, end.start_id) == ("end", start.id)
    # Out of the zone for the 2 inertia frames at 10 s: 10 s in it, 7 s since the alert.
    assert end.dwell == pytest.approx(10.0) and end.duration == pytest.approx(7.0)


def test_count_events_carry_the_totals() -> None:
    rule = {"name": "gate_count", "kind": "line", "line": "gate"}
    left: Script = [(t * 0.5, [obj(0.3 + 0.1 * t, 0.6)]) for t in range(5)]  # walks right: out
    right: Script = [(5.0 + t * 0.5, [obj(0.8 - 0.1 * t, 0.6)]) for t in range(5)]  # another: in
    events = run(engine([rule], ZONES, max_age="1s"), left + every(0.5, 4.0, [], 2.5) + right)
    assert [(e.direction, e.totals) for e in events] == [
        ("out", {"in": 0, "out": 1, "total": 1}),
        ("in", {"in": 1, "out": 1, "total": 2}),
    ]


def test_absence_end_carries_its_duration() -> None:
    rule = {"name": "empty", "kind": "absence", "for": "2s"}
    start, end = run(engine([rule]), [*every(1.0, 5.0, []), (5.0, [obj(0.5, 0.5)])])
    assert (start.frame_seq, end.start_id) == (2, start.id)
    assert end.duration == pytest.approx(3.0)
