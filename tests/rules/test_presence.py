"""Presence rules: start/end, min_duration, off_delay, zones with inertia, filters, cooldown."""

from __future__ import annotations

from typing import Any

from edgecam.types import Detection
from tests.rules.scripted import at, brief, engine, every, obj, run

PERSON = obj(0.2, 0.6)
WEAK = obj(0.2, 0.6, score=0.3)
CAR = obj(0.7, 0.9, w=0.3, h=0.2, label="car")
WALKWAY = {"walkway": {"polygon": [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]}}


def test_start_then_end_after_off_delay() -> None:
    eng = engine([{"name": "p", "kind": "presence", "off_delay": "2s"}])
    script = [(0.0, [CAR]), (1.0, [PERSON]), (2.0, []), (3.5, [PERSON]), (4.0, []), (6.0, [])]
    assert brief(run(eng, script)) == [("start", 1), ("end", 5)]
    assert eng.states() == {("porch", "p"): False}


def test_weak_and_other_labels_do_not_match() -> None:
    eng = engine([{"name": "p", "kind": "presence", "min_score": 0.5}])
    assert run(eng, [(0.0, [WEAK, CAR]), (1.0, [WEAK])]) == []


def test_min_duration_before_on() -> None:
    eng = engine([{"name": "p", "kind": "presence", "min_duration": "3s", "off_delay": 1}])
    script = every(0.5, 2.0, [PERSON]) + every(0.5, 6.0, [], start=2.0)
    assert run(eng, script) == []  # 1.5 s of presence is not enough
    script += every(0.5, 10.0, [PERSON], start=6.0)
    assert brief(run(engine([{"name": "p", "kind": "presence", "min_duration": "3s"}]), script))[
        :1
    ] == [("start", 18)]


def test_cooldown_holds_back_the_next_start_until_it_expires() -> None:
    eng = engine([{"name": "p", "kind": "presence", "off_delay": 0, "cooldown": "10s"}])
    script = [(0.0, [PERSON]), (1.0, []), (5.0, [PERSON]), (9.9, [PERSON]), (10.0, [PERSON])]
    assert brief(run(eng, script)) == [("start", 0), ("end", 1), ("start", 4)]


def test_zone_with_jitter_at_the_boundary_starts_once() -> None:
    rule = {"name": "p", "kind": "presence", "zone": "walkway", "off_delay": "1s"}
    eng = engine([rule], {"zones": WALKWAY})
    outside, inside = obj(0.5, 0.48), obj(0.5, 0.52)
    # The feet wobble across the edge every frame: inertia (2 frames) never lets it flip.
    script = [(i * 0.1, [outside if i % 2 else inside]) for i in range(30)]
    assert run(eng, script) == []
    script += [(3.0 + i * 0.1, [inside]) for i in range(30)]
    script += [(6.0 + i * 0.1, [inside if i % 2 else outside]) for i in range(30)]
    events = run(engine([rule], {"zones": WALKWAY}), script)
    assert brief(events) == [("start", 31)]
    assert events[0].zone == "walkway" and events[0].track_id == 1


def test_track_lost_and_found_keeps_its_id_and_the_state() -> None:
    rule = {"name": "p", "kind": "presence", "updates": True, "off_delay": "3s"}
    eng = engine([rule])
    script = every(0.5, 2.0, [PERSON]) + every(0.5, 3.5, [], 2.0) + every(0.5, 5.0, [PERSON], 3.5)
    events = run(eng, script, finish=True)
    assert brief(events) == [("start", 0), ("end", 9)]
    assert {e.track_id for e in events} == {1}


def test_update_when_another_object_joins() -> None:
    eng = engine([{"name": "p", "kind": "presence", "updates": True}])
    other = obj(0.7, 0.6)
    events = run(eng, [(0.0, [PERSON]), (0.5, [PERSON, other]), (1.0, [PERSON, other])])
    assert [(e.type, e.track_id) for e in events] == [("start", 1), ("update", 2)]


def test_filters_area_aspect_median_and_per_label() -> None:
    big = obj(0.5, 0.9, w=0.8, h=0.8)
    wide = obj(0.5, 0.9, w=0.4, h=0.1)
    rules: list[dict[str, Any]] = [
        {"name": "area", "kind": "presence", "max_area": 0.2},
        {"name": "aspect", "kind": "presence", "min_aspect": 0.2, "max_aspect": 1.0},
        {"name": "median", "kind": "presence", "min_score": 0.3, "min_median_score": 0.6},
        {
            "name": "cars", "kind": "presence", "labels": ["person", "car"],
            "filters": {"car": {"min_score": 0.95}},
        },
    ]  # fmt: skip
    fired = {e.rule for e in run(engine(rules), [(0.0, [big])])}
    assert fired == {"aspect", "median", "cars"}  # big box: too big for "area" only
    assert {e.rule for e in run(engine(rules), [(0.0, [wide])])} == {"area", "median", "cars"}
    # One good frame, then weak ones: the track's median score drops below 0.6.
    flicker: list[Detection] = [obj(0.2, 0.6, score=s) for s in (0.9, 0.35, 0.35, 0.35)]
    events = run(engine([rules[2]]), [(i * 0.1, [d]) for i, d in enumerate(flicker)])
    assert brief(events) == [("start", 0)]
    late = run(engine([rules[2]]), [(i * 0.1, [d]) for i, d in enumerate(flicker[1:] * 3)])
    assert late == []
    assert run(engine(rules[3:]), [(0.0, [CAR])]) == []


def test_event_payload_fields() -> None:
    eng = engine([{"name": "p", "kind": "presence", "zone": "walkway"}], {"zones": WALKWAY})
    events = run(eng, [(0.0, [PERSON]), (1.0, [PERSON])])  # zone entered on the 2nd frame
    assert events[0].to_json() == {
        "id": "id0", "type": "start", "rule": "p", "camera": "porch", "label": "person",
        "score": 0.8, "box": [0.15, 0.3, 0.25, 0.6], "track_id": 1, "zone": "walkway",
        "ts": "2023-11-14T22:13:21.000Z", "frame_seq": 1,
    }  # fmt: skip


def test_min_hits_delays_confirmation_and_finish_closes() -> None:
    eng = engine([{"name": "p", "kind": "presence"}], min_hits=3)
    events = run(eng, every(0.1, 0.5, [PERSON]), finish=True)
    assert brief(events) == [("start", 2), ("end", 4)]
    assert eng.finish(at(1.0)) == []
