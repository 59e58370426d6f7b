"""Sub labels in rules (filter, tally with reset), MQTT topics and Home Assistant (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgecam.event import Event
from edgecam.publish.homeassistant import discovery_messages
from edgecam.publish.topics import Topics, retained_for_event, rule_targets, topic_level
from edgecam.rules.engine import RuleEngine
from edgecam.track.tracker import Track
from tests.rules.scripted import at, engine, obj

JAY, CARDINAL = "Blue Jay", "Northern Cardinal"
DAY = 86_400.0


def _name(eng: RuleEngine, species: dict[int, str]) -> None:
    """What the classification stage does between frames: put votes on the tracks."""
    track: Track
    for track in eng.tracks("porch"):
        if track.id in species:
            track.sub_label = species[track.id]
            track.sub_score = 0.9
            track.sub_top = ((species[track.id], 0.9),)


def _feed(eng: RuleEngine, frames: list[tuple[float, list[Any], dict[int, str]]]) -> list[Event]:
    events: list[Event] = []
    for seq, (t, dets, species) in enumerate(frames):
        _name(eng, species)
        events += eng.process(at(t, seq), dets)
    return events


def _bird(x: float) -> Any:
    return obj(x, 0.6, label="bird")


def test_a_sub_labels_filter_waits_for_the_species() -> None:
    eng = engine([{"name": "jay", "kind": "presence", "labels": ["bird"], "sub_labels": [JAY],
                   "off_delay": 0}])  # fmt: skip
    events = _feed(eng, [(0.0, [_bird(0.3)], {}), (0.1, [_bird(0.3)], {1: CARDINAL}),
                         (0.2, [_bird(0.3)], {1: CARDINAL}), (0.3, [], {})])  # fmt: skip
    assert events == []
    eng = engine([{"name": "jay", "kind": "presence", "labels": ["bird"], "sub_labels": [JAY],
                   "off_delay": 0}])  # fmt: skip
    events = _feed(eng, [(0.0, [_bird(0.3)], {}), (0.1, [_bird(0.3)], {1: JAY}),
                         (0.2, [_bird(0.3)], {1: JAY})])  # fmt: skip
    assert [(e.type, e.sub_label, e.sub_score) for e in events] == [("start", JAY, 0.9)]


def test_tally_counts_each_bird_once_per_species_and_resets_daily() -> None:
    eng = engine([{"name": "species", "kind": "count", "labels": ["bird"], "by": "sub_label",
                   "reset": {"every": "daily", "timezone": "UTC"}}])  # fmt: skip
    two = [_bird(0.2), _bird(0.7)]
    events = _feed(eng, [(0.0, two, {}), (1.0, two, {1: JAY}), (2.0, two, {1: JAY, 2: JAY}),
                         (3.0, two, {1: JAY, 2: CARDINAL})])  # fmt: skip
    counts = [(e.sub_label, e.count, e.totals) for e in events]
    assert counts == [
        (JAY, 1, {JAY: 1, "total": 1}),
        (JAY, 2, {JAY: 2, "total": 2}),  # track 2 was a jay first: counted once, as a jay
    ]
    assert eng.rule("porch", "species").count() == 2
    later = _feed(eng, [(DAY, [], {}), (DAY + 1, [_bird(0.5)], {}),
                        (DAY + 2, [_bird(0.5)], {3: CARDINAL})])  # fmt: skip
    assert [(e.sub_label, e.count, e.totals) for e in later] == [
        (JAY, 0, {JAY: 0, "total": 0}),  # a new day: zeros so retained counts follow
        (CARDINAL, 1, {CARDINAL: 1, "total": 1}),
    ]


def _event(**fields: Any) -> Event:
    base: dict[str, Any] = {"id": "x", "type": "count", "rule": "species", "camera": "feeder",
                            "ts": "t", "frame_seq": 1}  # fmt: skip
    return Event(**{**base, **fields})


def test_tallies_are_retained_per_species_and_the_total() -> None:
    topics = Topics("edgecam", "pi")
    event = _event(sub_label="Black-capped Chickadee", count=3,
                   totals={"Black-capped Chickadee": 3, JAY: 1, "total": 4})  # fmt: skip
    assert retained_for_event(topics, event) == [
        ("edgecam/pi/feeder/species/count/black-capped_chickadee", b"3"),
        ("edgecam/pi/feeder/species/count", b"4"),
        ("edgecam/pi/feeder/species/sub_label", b"Black-capped Chickadee"),
    ]
    start = _event(type="start", rule="jay", sub_label=JAY)
    assert retained_for_event(topics, start)[-1] == ("edgecam/pi/feeder/jay/sub_label", b"Blue Jay")
    assert topic_level("Anna's Hummingbird") == "anna_s_hummingbird"


class _Rule:
    def __init__(self, name: str, kind: str, **extra: Any) -> None:
        self.name, self.kind, self.camera = name, kind, None
        self.__dict__.update(extra)


def test_home_assistant_gets_a_sub_label_sensor_per_classified_rule() -> None:
    topics = Topics("edgecam", "pi")
    rules = [_Rule("jay", "presence", sub_labels=[JAY]), _Rule("people", "presence"),
             _Rule("species", "count", by="sub_label", zone=None, line=None)]  # fmt: skip
    targets = rule_targets(["feeder"], rules)
    messages = discovery_messages(topics, ["feeder"], targets)
    sensors = {m.config["state_topic"] for m in messages if m.topic.endswith("__sub_label/config")}
    assert sensors == {"edgecam/pi/feeder/jay/sub_label", "edgecam/pi/feeder/species/sub_label"}
    tally = next(m for m in messages if m.topic.endswith("/feeder__species/config"))
    assert tally.config["state_topic"] == "edgecam/pi/feeder/species/count"
    assert not any("__species__in" in m.topic for m in messages)  # no direction sensors


def test_the_stage_counters_are_prometheus_metrics() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from edgecam.service.metrics import ClassifyCollector

    registry = CollectorRegistry()
    figures = {"classified": 7, "dropped": 2, "too_small": 1, "queued": 0, "invoke_ms": 12.5}
    registry.register(ClassifyCollector(lambda: figures))
    text = generate_latest(registry).decode()
    assert "edgecam_classify_crops_total 7.0" in text
    assert "edgecam_classify_dropped_total 2.0" in text
    assert "edgecam_classify_invoke_ms 12.5" in text
    empty = CollectorRegistry()
    empty.register(ClassifyCollector(lambda: None))
    assert "classify" not in generate_latest(empty).decode()


def test_a_reload_with_other_classifiers_asks_for_a_restart() -> None:
    from edgecam.config import parse_config
    from edgecam.service.reload import compare

    base = "cameras: {a: {source: {type: image, paths: [a.jpg]}}}\n"
    old = parse_config(base)
    new = parse_config(base + "classify: [{name: birds}]\n")
    changes = compare(old, new)
    assert changes.need_restart == ("classify",) and "classify" not in changes.applied


def test_the_bird_feeder_example_checks() -> None:
    from tests.helpers import run_edgecam

    root = Path(__file__).resolve().parents[2]
    result = run_edgecam(["check-config", str(root / "examples" / "bird-feeder.yaml")])
    assert result.code == 0, result.err
