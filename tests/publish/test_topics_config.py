"""Topics, payloads and the mqtt config section (pure; no broker)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from edgecam.config.models import Config
from edgecam.event import Event
from edgecam.publish.config import MqttConfig
from edgecam.publish.topics import (
    Topics,
    initial_retained,
    parse_switch,
    retained_for_event,
    rule_targets,
    stats_payload,
)
from edgecam.rules.config import PresenceRuleConfig

TOPICS = Topics("edgecam", "porch-pi")


def _event(kind: str, count: int | None = None) -> Event:
    return Event(id="x", type=kind, rule="r", camera="c", ts="t", frame_seq=1, count=count)  # type: ignore[arg-type]


def test_topic_names_follow_the_contract() -> None:
    assert TOPICS.availability == "edgecam/porch-pi/availability"
    assert TOPICS.events == "edgecam/porch-pi/events"
    assert TOPICS.stats == "edgecam/porch-pi/stats"
    assert TOPICS.rule_state("porch", "walk") == "edgecam/porch-pi/porch/walk/state"
    assert TOPICS.rule_count("porch", "gate") == "edgecam/porch-pi/porch/gate/count"
    assert TOPICS.snapshot("porch", "walk") == "edgecam/porch-pi/porch/walk/snapshot"
    assert TOPICS.detect_set("porch") == "edgecam/porch-pi/porch/detect/set"
    assert TOPICS.detect_state("porch") == "edgecam/porch-pi/porch/detect/state"
    assert TOPICS.camera_of_detect_set("edgecam/porch-pi/porch/detect/set") == "porch"
    assert TOPICS.camera_of_detect_set("edgecam/porch-pi/a/b/detect/set") is None
    assert TOPICS.camera_of_detect_set("edgecam/other/porch/detect/set") is None


def test_states_from_events() -> None:
    assert retained_for_event(TOPICS, _event("start")) == [(TOPICS.rule_state("c", "r"), b"ON")]
    assert retained_for_event(TOPICS, _event("end")) == [(TOPICS.rule_state("c", "r"), b"OFF")]
    assert retained_for_event(TOPICS, _event("update")) == []
    assert retained_for_event(TOPICS, _event("count", 7)) == [(TOPICS.rule_count("c", "r"), b"7")]


def test_line_counts_per_direction_and_their_sum() -> None:
    from dataclasses import replace

    total = TOPICS.rule_count("c", "r")
    crossing_in = replace(_event("count", 3), direction="in")
    assert retained_for_event(TOPICS, crossing_in, {f"{total}/out": 4}) == [
        (f"{total}/in", b"3"),
        (total, b"7"),
    ]
    crossing_out = replace(_event("count", 1), direction="out")
    assert retained_for_event(TOPICS, crossing_out) == [(f"{total}/out", b"1"), (total, b"1")]


def test_targets_expand_rules_without_camera() -> None:
    rules = [PresenceRuleConfig(name="any"), PresenceRuleConfig(name="one", camera="b")]
    targets = rule_targets(["a", "b"], rules)
    assert [(t.camera, t.rule) for t in targets] == [("a", "any"), ("b", "any"), ("b", "one")]
    assert initial_retained(TOPICS, targets)[0] == (TOPICS.rule_state("a", "any"), b"OFF")


def test_switch_payloads_and_stats() -> None:
    assert parse_switch(b" on\n") is True
    assert parse_switch(b"OFF") is False
    assert parse_switch(b"1") is None
    merged = json.loads(stats_payload({"fps": 1.0}, {"outbox_depth": 3}))
    assert merged == {"fps": 1.0, "outbox_depth": 3}


def test_mqtt_section_defaults_and_checks() -> None:
    config = Config.model_validate({"cameras": {"c": {"source": {"type": "file", "path": "x"}}}})
    assert config.mqtt is None
    mqtt = MqttConfig()
    assert (mqtt.effective_port, mqtt.protocol, mqtt.prefix) == (1883, "5", "edgecam")
    assert MqttConfig.model_validate({"tls": {}}).effective_port == 8883
    assert MqttConfig.model_validate({"protocol": 5}).protocol == "5"
    assert MqttConfig.model_validate({"protocol": "3.1.1"}).protocol == "3.1.1"
    for bad in (
        {"protocol": "4"},
        {"password_file": "/p"},
        {"tls": {"certfile": "/c"}},
        {"prefix": "a/#"},
        {"prefix": "/a"},
        {"secret": "x"},
    ):
        with pytest.raises(ValidationError):
            MqttConfig.model_validate(bad)


def test_rule_targets_know_directions_and_occupancy() -> None:
    from edgecam.config import parse_config
    from edgecam.publish.topics import rule_targets

    config = parse_config(
        """
cameras:
  porch:
    source: {type: file, path: clip.avi}
    lines: {gate: {points: [[0.5, 0.0], [0.5, 1.0]]}}
    zones: {bay: {polygon: [[0, 0], [1, 0], [1, 1]]}}
rules:
  - {name: both, kind: line, line: gate}
  - {name: inbound, kind: line, line: gate, direction: in}
  - {name: bay, kind: count, zone: bay}
  - {name: seen, kind: presence}
"""
    )
    shapes = {t.rule: (t.directions, t.occupancy) for t in rule_targets(["porch"], config.rules)}
    assert shapes == {
        "both": (("in", "out"), False),
        "inbound": (("in",), False),
        "bay": ((), True),
        "seen": ((), False),
    }


def test_stale_retained_keeps_what_the_config_has_and_names_the_rest() -> None:
    from edgecam.publish.topics import RuleTarget, stale_retained

    base = "edgecam/porch-pi"
    targets = [
        RuleTarget("porch", "seen", "presence"),
        RuleTarget("porch", "gate", "line", ("in", "out")),
    ]
    kept = [
        f"{base}/availability", f"{base}/stats", f"{base}/porch/detect/state",
        f"{base}/porch/seen/state", f"{base}/porch/seen/snapshot",
        f"{base}/porch/gate/count", f"{base}/porch/gate/count/in", f"{base}/porch/gate/count/out",
        "homeassistant/binary_sensor/edgecam_porch-pi/porch__seen/config",
    ]  # fmt: skip
    stale = [
        f"{base}/porch/old/state",  # a removed rule
        f"{base}/porch/gate/state",  # gate was an ON/OFF rule before it counted
        f"{base}/yard/detect/state",  # a removed camera
        "edgecam/old-name/availability",  # the device was renamed
        "homeassistant/binary_sensor/edgecam_porch-pi/porch__old/config",
    ]
    discovery = ["homeassistant/binary_sensor/edgecam_porch-pi/porch__seen/config"]
    got = stale_retained(TOPICS, ["porch"], targets, discovery, kept + stale)
    assert got == sorted(stale)
