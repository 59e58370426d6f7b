"""Dwell (loitering) and absence rules."""

from __future__ import annotations

from tests.rules.scripted import brief, engine, every, obj, run

BAY = {"bay": {"polygon": [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]}}
IN_BAY, OUT = obj(0.25, 0.8), obj(0.55, 0.8)
CAR = obj(0.25, 0.8, w=0.3, h=0.2, label="car")


def dwell(**extra: object) -> list[dict[str, object]]:
    return [{"name": "loiter", "kind": "dwell", "zone": "bay", "min_dwell": "10s", **extra}]


def test_dwell_alerts_once_per_stay_and_ends_on_leaving() -> None:
    eng = engine(dwell(), {"zones": BAY})
    script = every(1.0, 15.0, [IN_BAY]) + every(1.0, 20.0, [OUT], 15.0)
    events = run(eng, script)
    # Entered at t=0 (the first of the 2 inertia frames), so the alert comes at t=10.
    assert brief(events) == [("start", 10), ("end", 16)]
    assert events[0].zone == "bay" and events[0].track_id == 1


def test_dwell_survives_a_track_lost_and_found() -> None:
    eng = engine(dwell(), {"zones": BAY}, max_age="3s")
    script = every(1.0, 5.0, [IN_BAY]) + every(1.0, 7.0, [], 5.0) + every(1.0, 12.0, [IN_BAY], 7.0)
    assert brief(run(eng, script, finish=True)) == [("start", 10), ("end", 11)]
    # Lost for longer than max_age: a new track, and the clock starts again.
    eng = engine(dwell(), {"zones": BAY}, max_age="1s")
    assert brief(run(eng, script)) == []


def test_dwell_cooldown_defers_the_second_alert() -> None:
    eng = engine(dwell(cooldown="5s"), {"zones": BAY})
    other = obj(0.1, 0.9)
    script = every(1.0, 20.0, [IN_BAY, other])
    events = run(eng, script)
    assert [(e.type, e.frame_seq, e.track_id) for e in events] == [
        ("start", 10, 1), ("start", 15, 2),
    ]  # fmt: skip
    assert eng.states() == {("porch", "loiter"): True}


def test_absence_starts_after_for_and_ends_when_something_appears() -> None:
    rule = {"name": "no_car", "kind": "absence", "labels": ["car"], "zone": "bay", "for": "10m"}
    eng = engine([rule], {"zones": BAY})
    script = every(60.0, 300.0, [CAR]) + every(60.0, 1000.0, [], 300.0)
    script += [(1000.0, [CAR]), (1060.0, [CAR])]
    events = run(eng, script)
    # Last seen at 240 s; parked, so stationary and kept for 60 s (``tracker.stationary.keep``):
    # there until 300 s, absent for 10 min at 900 s (frame 15); a car appears at 1000 s and is
    # in the bay after the 2 inertia frames, at 1060 s (frame 18).
    assert brief(events) == [("start", 15), ("end", 18)]
    assert events[0].zone == "bay" and events[0].label is None
    assert events[1].label == "car"


def test_absence_from_the_first_frame() -> None:
    eng = engine([{"name": "empty", "kind": "absence", "for": "5s"}])
    assert brief(run(eng, every(1.0, 8.0, []))) == [("start", 5)]
