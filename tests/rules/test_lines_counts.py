"""Line crossings and counts: directions, back and forth, hovering, resets, occupancy."""

from __future__ import annotations

from collections.abc import Sequence

from edgecam.types import Detection
from tests.rules.scripted import engine, every, obj, run

# A vertical gate at x = 0.5 from top to bottom: "in" is moving to the image's left.
GATE = {"gate": {"points": [[0.5, 0.2], [0.5, 0.9]]}}
LINE = {"name": "gate_count", "kind": "line", "line": "gate", "direction": "both"}


def walk(
    xs: Sequence[float], y: float = 0.6, t0: float = 0.0
) -> list[tuple[float, list[Detection]]]:
    return [(t0 + i * 0.5, [obj(x, y)]) for i, x in enumerate(xs)]


def crossings(xs: Sequence[float], **line: object) -> list[tuple[str | None, int | None]]:
    eng = engine([{**LINE, **line}], {"lines": GATE})
    return [(e.direction, e.count) for e in run(eng, walk(xs))]


def test_directions_and_counts() -> None:
    assert crossings([0.3, 0.4, 0.45, 0.55, 0.6]) == [("out", 1)]
    assert crossings([0.7, 0.6, 0.55, 0.45, 0.4]) == [("in", 1)]
    assert crossings([0.7, 0.6, 0.55, 0.45, 0.4], direction="out") == []


def test_back_and_forth_counts_once_per_direction() -> None:
    xs = [0.4, 0.45, 0.55, 0.6, 0.55, 0.45, 0.4, 0.45, 0.55, 0.6]
    assert crossings(xs) == [("out", 1), ("in", 1)]


def test_hovering_on_the_line_crosses_nothing() -> None:
    # Within the 0.01 margin either side: no side is ever taken.
    assert crossings([0.4, 0.495, 0.505, 0.495, 0.505, 0.5, 0.495]) == []
    # Hover, then really cross: one crossing, when the far side is reached.
    assert crossings([0.4, 0.495, 0.505, 0.495, 0.505, 0.6]) == [("out", 1)]


def test_passing_beyond_the_end_of_the_line_is_no_crossing() -> None:
    eng = engine([LINE], {"lines": GATE})
    assert run(eng, walk([0.3, 0.4, 0.6, 0.7], y=0.95)) == []


def test_two_people_and_the_count_per_direction() -> None:
    eng = engine([LINE], {"lines": GATE})
    script = [(i * 0.5, [obj(0.3 + 0.1 * i, 0.4), obj(0.8 - 0.1 * i, 0.8)]) for i in range(5)]
    events = run(eng, script)
    assert sorted((e.direction, e.count, e.track_id) for e in events) == [
        ("in", 1, 2), ("out", 1, 1),
    ]  # fmt: skip
    assert eng.counts() == {("porch", "gate_count"): 2}
    assert eng.directions() == {("porch", "gate_count"): {"in": 1, "out": 1}}  # the page's split


def test_a_crossing_before_confirmation_is_reported_at_confirmation() -> None:
    eng = engine([LINE], {"lines": GATE}, min_hits=3)
    events = run(eng, walk([0.45, 0.55, 0.6, 0.65]))
    assert [(e.direction, e.frame_seq) for e in events] == [("out", 2)]


def test_cooldown_holds_back_alerts_but_not_counting() -> None:
    eng = engine([{**LINE, "cooldown": "1m"}], {"lines": GATE})
    # Three people, far apart in time: out at 0.5 s, in at 5.5 s (held back), out at 100.5 s.
    script = walk([0.4, 0.6]) + walk([0.6, 0.4], t0=5.0) + walk([0.4, 0.6], t0=100.0)
    events = run(eng, script)
    assert [(e.direction, e.count, e.track_id) for e in events] == [("out", 1, 1), ("out", 2, 3)]
    assert eng.counts() == {("porch", "gate_count"): 3}


def test_daily_reset_at_midnight_local_time() -> None:
    rule = {**LINE, "reset": {"every": "daily", "at": "00:00", "timezone": "Europe/Berlin"}}
    eng = engine([rule], {"lines": GATE})
    # 2023-11-14 23:58 Berlin (UTC+1) is 22:58 UTC.
    wall0 = 1_700_002_680.0
    run(eng, walk([0.4, 0.6]), wall0=wall0)
    assert eng.counts() == {("porch", "gate_count"): 1}
    events = run(eng, walk([0.6, 0.4], t0=300.0), wall0=wall0)  # 00:03, the next day
    # The reset announces itself with zeros (for retained count topics), then the crossing.
    assert [(e.type, e.direction, e.count) for e in events] == [
        ("count", "in", 0), ("count", "out", 0), ("count", "in", 1),
    ]  # fmt: skip
    assert eng.counts() == {("porch", "gate_count"): 1}


def test_zone_occupancy_counts() -> None:
    zones = {"bay": {"polygon": [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]}}
    eng = engine([{"name": "occ", "kind": "count", "zone": "bay"}], {"zones": zones})
    a, b = obj(0.1, 0.8), obj(0.3, 0.8)
    script = every(1.0, 3.0, [a]) + every(1.0, 6.0, [a, b], 3.0) + every(1.0, 12.0, [], 6.0)
    events = run(eng, script)
    assert [(e.count, e.frame_seq, e.zone) for e in events] == [
        (1, 1, "bay"), (2, 4, "bay"), (0, 8, "bay"),
    ]  # fmt: skip
    # Gone at 6 s; tracks coast for max_age (2 s) and are dropped at 8 s.


def test_line_count_rule_rate_limited_by_cooldown() -> None:
    rule = {"name": "c", "kind": "count", "line": "gate", "direction": "out", "cooldown": "10s"}
    eng = engine([rule], {"lines": GATE})
    script = walk([0.4, 0.6]) + walk([0.4, 0.6], y=0.3, t0=1.0) + [(20.0, [])]
    events = run(eng, script)
    assert [(e.direction, e.count, e.frame_seq) for e in events] == [("out", 1, 1), ("out", 2, 4)]


def gap_walk(missed: int, max_gap: int = 3) -> list[tuple[str | None, int | None]]:
    """Seen left of the gate, missed ``missed`` frames, then seen right of it."""
    gate = {"gate": {**GATE["gate"], "max_gap": max_gap}}
    eng = engine([LINE], {"lines": gate}, max_distance=10.0, max_age=10.0)
    script: list[tuple[float, list[Detection]]] = [(0.0, [obj(0.42, 0.6)]), (0.1, [obj(0.44, 0.6)])]
    script += [(0.2 + 0.1 * i, []) for i in range(missed)]
    script += [(0.2 + 0.1 * missed, [obj(0.56, 0.6)]), (0.3 + 0.1 * missed, [obj(0.58, 0.6)])]
    return [(e.direction, e.count) for e in run(eng, script)]


def test_a_track_back_after_a_long_gap_on_the_other_side_is_no_crossing() -> None:
    assert gap_walk(missed=2) == [("out", 1)]  # a short miss: the same person walked on
    # Missed longer: the tracker has likely given it someone else's box.
    assert gap_walk(missed=4) == []
    assert gap_walk(missed=4, max_gap=5) == [("out", 1)]
