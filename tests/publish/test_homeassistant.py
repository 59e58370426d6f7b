"""Home Assistant discovery payloads checked against HA's documented MQTT discovery schema.

The keys below are the documented configuration variables of each MQTT entity kind
(home-assistant.io/integrations/binary_sensor.mqtt, sensor.mqtt, switch.mqtt, image.mqtt and
the discovery page): required keys must be there, and every key sent must be a documented one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from edgecam.config.loader import parse_config
from edgecam.publish.homeassistant import DiscoveryMessage, discovery_messages
from edgecam.publish.mqtt import MqttSink
from edgecam.publish.topics import RuleTarget, Topics, rule_targets, stale_retained
from edgecam.publish.work import Retarget
from edgecam.service.build import build_sinks, classified_labels
from tests.helpers import DATA

TOPICS = Topics("edgecam", "porch-pi")
TOPIC = re.compile(r"^homeassistant/(binary_sensor|sensor|switch|image)/[\w-]+/[\w-]+/config$")

COMMON = {
    "name", "unique_id", "availability_topic", "payload_available", "payload_not_available",
    "device", "origin", "icon", "entity_category", "qos", "enabled_by_default",
    "json_attributes_topic", "availability", "availability_mode", "encoding",
}  # fmt: skip
DOCUMENTED = {
    "binary_sensor": COMMON | {"state_topic", "payload_on", "payload_off", "device_class",
                               "value_template", "expire_after", "force_update", "off_delay"},
    "sensor": COMMON | {"state_topic", "state_class", "unit_of_measurement", "device_class",
                        "value_template", "expire_after", "force_update"},
    "switch": COMMON | {"command_topic", "state_topic", "payload_on", "payload_off", "state_on",
                        "state_off", "retain", "optimistic", "device_class", "value_template"},
    "image": COMMON | {"image_topic", "url_topic", "content_type", "image_encoding"},
}  # fmt: skip
REQUIRED = {
    "binary_sensor": {"state_topic"},
    "sensor": {"state_topic"},
    "switch": {"command_topic"},
    "image": set(),
}
DEVICE_KEYS = {
    "identifiers", "connections", "name", "manufacturer", "model", "sw_version", "hw_version",
    "suggested_area", "via_device", "configuration_url", "serial_number",
}  # fmt: skip
BINARY_CLASSES = {"occupancy", "motion", "presence", "moving", "problem"}
STATE_CLASSES = {"measurement", "total", "total_increasing"}

TARGETS = [
    RuleTarget("porch", "walkway", "presence", clip=True),
    RuleTarget("porch", "loiterer", "dwell"),
    RuleTarget("porch", "no_car", "absence"),
    RuleTarget("porch", "gate", "line", ("in", "out")),
    RuleTarget("porch", "bay", "count", (), True),
]


def _messages(snapshots: bool = True) -> list[tuple[str, str, dict[str, object]]]:
    out = []
    for message in discovery_messages(
        TOPICS, ["porch", "yard"], TARGETS, snapshots=snapshots, version="1.2.3"
    ):
        match = TOPIC.match(message.topic)
        assert match, message.topic
        assert json.loads(message.payload) == message.config
        out.append((match.group(1), message.topic, message.config))
    return out


def test_every_payload_fits_its_documented_schema() -> None:
    messages = _messages()
    for component, topic, config in messages:
        assert REQUIRED[component] <= set(config), topic
        assert set(config) <= DOCUMENTED[component], (topic, set(config) - DOCUMENTED[component])
        assert config["availability_topic"] == "edgecam/porch-pi/availability"
        assert (config["payload_available"], config["payload_not_available"]) == (
            "online",
            "offline",
        )
        device = config["device"]
        assert isinstance(device, dict) and set(device) <= DEVICE_KEYS
        assert device["identifiers"] == ["edgecam_porch-pi"]
        assert config.get("entity_category", "config") in {"config", "diagnostic"}
        if component == "image":
            assert ("image_topic" in config) != ("url_topic" in config)
    unique_ids = [config["unique_id"] for _c, _t, config in messages]
    assert len(set(unique_ids)) == len(unique_ids)
    assert len({topic for _c, topic, _cfg in messages}) == len(messages)


def test_entities_per_rule_kind_and_camera() -> None:
    by_topic = {topic: (component, config) for component, topic, config in _messages()}
    node = "homeassistant/{}/edgecam_porch-pi/{}/config"
    _, walkway = by_topic[node.format("binary_sensor", "porch__walkway")]
    assert walkway["state_topic"] == "edgecam/porch-pi/porch/walkway/state"
    assert (walkway["payload_on"], walkway["payload_off"]) == ("ON", "OFF")
    assert walkway["device_class"] in BINARY_CLASSES
    _, absence = by_topic[node.format("binary_sensor", "porch__no_car")]
    assert "device_class" not in absence  # ON means "absent": not an occupancy
    _, gate = by_topic[node.format("sensor", "porch__gate")]
    assert gate["state_topic"] == "edgecam/porch-pi/porch/gate/count"
    assert gate["state_class"] == "total_increasing"
    for direction in ("in", "out"):
        _, one_way = by_topic[node.format("sensor", f"porch__gate__{direction}")]
        assert one_way["state_topic"] == f"edgecam/porch-pi/porch/gate/count/{direction}"
        assert one_way["state_class"] in STATE_CLASSES
    _, bay = by_topic[node.format("sensor", "porch__bay")]
    assert bay["state_class"] == "measurement"  # occupancy goes down as well as up
    for camera in ("porch", "yard"):
        _, switch = by_topic[node.format("switch", f"{camera}__detect")]
        assert switch["command_topic"] == f"edgecam/porch-pi/{camera}/detect/set"
        assert switch["state_topic"] == f"edgecam/porch-pi/{camera}/detect/state"
        assert switch["retain"] is False  # HA must never leave a retained command behind
    _, image = by_topic[node.format("image", "porch__walkway__snapshot")]
    assert image["image_topic"] == "edgecam/porch-pi/porch/walkway/snapshot"
    assert image["content_type"] == "image/jpeg"
    _, clip = by_topic[node.format("sensor", "porch__walkway__clip")]  # the latest clip's URL
    assert (
        clip["state_topic"]
        == clip["json_attributes_topic"]
        == ("edgecam/porch-pi/porch/walkway/clip")
    )
    assert clip["value_template"] == "{{ value_json.url }}"
    assert node.format("sensor", "porch__loiterer__clip") not in by_topic  # no clip: none
    _, fps = by_topic[node.format("sensor", "fps")]
    assert fps["state_topic"] == "edgecam/porch-pi/stats"


def test_snapshot_entities_only_when_asked() -> None:
    assert not [c for c, _t, _cfg in _messages(snapshots=False) if c == "image"]


def test_rule_entities_show_the_latest_event_as_attributes() -> None:
    from edgecam.event import Event
    from edgecam.publish.topics import attributes_for_event

    rules = {f"/{t.camera}__{t.rule}/config": t for t in TARGETS}
    seen = 0
    for _, topic, config in _messages():
        target = next((t for end, t in rules.items() if topic.endswith(end)), None)
        if target is not None:
            seen += 1
            attributes = config["json_attributes_topic"]
            assert attributes == TOPICS.rule_attributes(target.camera, target.rule)
    assert seen == len(TARGETS)
    end = Event("e2", "end", "walkway", "porch", "2026-05-01T22:00:10.000Z", 9, duration=4.5,
                start_id="e1", max_score=0.9, zones_visited=("walkway",))  # fmt: skip
    topic, payload = attributes_for_event(TOPICS, end)
    assert topic == "edgecam/porch-pi/porch/walkway/attributes"
    shown = json.loads(payload)
    assert (shown["duration"], shown["start_id"], shown["zones_visited"]) == (
        4.5,
        "e1",
        ["walkway"],
    )


CLASSIFIED = f"""
cameras:
  feeder: {{source: {{type: image, paths: [{DATA / "person.jpg"}]}}}}
classify: [{{name: birds, labels: [bird]}}]
rules:
  - {{name: birds, kind: presence, labels: [bird]}}
  - {{name: people, kind: presence, labels: [person]}}
  - {{name: visitors, kind: presence, labels: [person, bird]}}
  - {{name: jays, kind: presence, labels: [bird], sub_labels: [Blue Jay]}}
http: {{enabled: false}}
"""


def _sub_label_sensors(messages: list[DiscoveryMessage]) -> set[object]:
    return {m.config["state_topic"] for m in messages if m.topic.endswith("__sub_label/config")}


def test_every_rule_on_a_classified_label_gets_a_sub_label_sensor() -> None:
    config = parse_config(CLASSIFIED)
    classified = classified_labels(config.classify)
    assert classified == {"bird"}
    targets = rule_targets(["feeder"], config.rules, classified)
    sensors = _sub_label_sensors(discovery_messages(TOPICS, ["feeder"], targets))
    assert sensors == {
        f"edgecam/porch-pi/feeder/{rule}/sub_label" for rule in ("birds", "visitors", "jays")
    }
    # Without the classifier only the rule that filters by sub label keeps its sensor.
    plain = rule_targets(["feeder"], config.rules)
    assert _sub_label_sensors(discovery_messages(TOPICS, ["feeder"], plain)) == {
        "edgecam/porch-pi/feeder/jays/sub_label"
    }


class _Unlabelled:
    """A rule without labels (what topics accept): it matches any label."""

    name, kind, camera = "anything", "presence", None


def test_a_rule_without_labels_gets_the_sensor_when_any_label_is_classified() -> None:
    for classified, expected in ((frozenset({"cat"}), True), (frozenset(), False)):
        (target,) = rule_targets(["feeder"], [_Unlabelled()], classified)
        assert target.classified is expected


def test_a_rules_reload_adds_and_clears_sub_label_sensors() -> None:
    """What the sink does on a reload of ``rules:``: its classified labels stay (a ``classify:``
    change waits for a restart), discovery follows the new rules, the stale topics are cleared."""
    config = parse_config(CLASSIFIED)
    classified = classified_labels(config.classify)
    old = rule_targets(["feeder"], config.rules, classified)
    published = {m.topic for m in discovery_messages(TOPICS, ["feeder"], old)}
    # birds now watches cats (no classifier for them), visitors is gone, feeder_birds is new.
    rules = CLASSIFIED.split("rules:", maxsplit=1)[0] + (
        "rules:\n"
        "  - {name: birds, kind: presence, labels: [cat]}\n"
        "  - {name: people, kind: presence, labels: [person]}\n"
        "  - {name: jays, kind: presence, labels: [bird], sub_labels: [Blue Jay]}\n"
        "  - {name: feeder_birds, kind: presence, labels: [bird]}\n"
    )
    new = rule_targets(["feeder"], parse_config(rules).rules, classified)
    discovery = discovery_messages(TOPICS, ["feeder"], new)
    assert _sub_label_sensors(discovery) == {
        "edgecam/porch-pi/feeder/jays/sub_label",
        "edgecam/porch-pi/feeder/feeder_birds/sub_label",
    }
    stale = stale_retained(TOPICS, ["feeder"], new, [m.topic for m in discovery], published)
    node = "homeassistant/{}/edgecam_porch-pi/feeder__{}/config"
    assert node.format("sensor", "birds__sub_label") in stale  # the rule stays, its sensor goes
    assert node.format("sensor", "visitors__sub_label") in stale  # a removed rule's entities go
    assert node.format("binary_sensor", "visitors") in stale
    assert not [t for t in stale if "__jays" in t or "__people" in t or "__birds/" in t]


def test_the_mqtt_sink_is_built_with_the_classified_labels(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.db"
    config = parse_config(CLASSIFIED + f"mqtt: {{outbox: {{path: {outbox}}}}}\n")
    (sink,) = build_sinks(config, None)  # idle: nothing connects
    try:
        assert isinstance(sink, MqttSink)
        assert {t.rule for t in sink._retained.targets if t.classified} == {
            "birds", "visitors", "jays"
        }  # fmt: skip
        sink.retarget(["feeder"], config.rules[:1])  # a rules reload keeps them
        work = sink._queue.get_nowait()
        assert isinstance(work, Retarget) and [t.classified for t in work.targets] == [True]
    finally:
        sink.close()
