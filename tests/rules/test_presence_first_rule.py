"""The first rule: a label present in a camera's view, with start and end events."""

from __future__ import annotations

import itertools

import numpy as np

from edgecam.rules.config import PresenceRuleConfig
from edgecam.rules.presence import PresenceRule
from edgecam.types import Detection, Frame

PERSON = Detection("person", 0, 0.8, (0.1, 0.1, 0.3, 0.6))
WEAK = Detection("person", 0, 0.3, (0.1, 0.1, 0.3, 0.6))
CAR = Detection("car", 2, 0.9, (0.5, 0.5, 0.9, 0.9))


def at(t: float, seq: int) -> Frame:
    return Frame(np.zeros((1, 1, 3), np.uint8), seq, t, 1_700_000_000.0 + t, "porch")


def run(rule: PresenceRule, script: list[tuple[float, list[Detection]]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for seq, (t, dets) in enumerate(script):
        out += [(e.type, e.frame_seq) for e in rule.evaluate(at(t, seq), dets)]
    return out


def test_start_then_end_after_off_delay() -> None:
    ids = (f"id{i}" for i in itertools.count())
    rule = PresenceRule(PresenceRuleConfig(name="p", off_delay=2.0), lambda: next(ids))
    script = [(0.0, [CAR]), (1.0, [PERSON]), (2.0, []), (3.5, [PERSON]), (4.0, []), (6.0, [])]
    assert run(rule, script) == [("start", 1), ("end", 5)]


def test_weak_and_other_labels_do_not_match() -> None:
    rule = PresenceRule(PresenceRuleConfig(name="p", min_score=0.5))
    assert run(rule, [(0.0, [WEAK, CAR]), (1.0, [WEAK])]) == []


def test_cooldown_holds_back_the_next_start() -> None:
    rule = PresenceRule(PresenceRuleConfig(name="p", off_delay=0.0, cooldown=10.0))
    script = [(0.0, [PERSON]), (1.0, []), (5.0, [PERSON]), (12.0, [PERSON])]
    assert run(rule, script) == [("start", 0), ("end", 1), ("start", 3)]


def test_event_payload_fields() -> None:
    rule = PresenceRule(PresenceRuleConfig(name="p"), lambda: "abc")
    (event,) = rule.evaluate(at(0.0, 7), [PERSON])
    assert event.to_json() == {
        "id": "abc", "type": "start", "rule": "p", "camera": "porch", "label": "person",
        "score": 0.8, "box": [0.1, 0.1, 0.3, 0.6], "ts": "2023-11-14T22:13:20.000Z",
        "frame_seq": 7,
    }  # fmt: skip
