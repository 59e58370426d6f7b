"""Home Assistant MQTT discovery: pure functions from the config's rules to discovery messages.

Topics follow ``<discovery prefix>/<component>/<node_id>/<object_id>/config`` and payloads the
documented schema of each entity kind (binary_sensor, sensor, switch, image), with a shared
device block and the device's availability topic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from edgecam.publish.topics import OFF, OFFLINE, ON, ONLINE, RuleTarget, Topics

OCCUPANCY_KINDS = frozenset({"presence", "dwell"})
"""ON/OFF rule kinds that mean "something is there" (device class ``occupancy``)."""


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    """One retained discovery config: its topic and its JSON object."""

    topic: str
    config: dict[str, object] = field(hash=False)

    @property
    def payload(self) -> bytes:
        """The config as JSON."""
        return json.dumps(self.config, separators=(",", ":"), sort_keys=True).encode()


def device_block(device: str, version: str) -> dict[str, object]:
    """The device all entities of this edgecam instance belong to."""
    return {
        "identifiers": [f"edgecam_{device}"],
        "name": device,
        "manufacturer": "edgecam",
        "model": "edgecam object detection",
        "sw_version": version,
    }


def _common(topics: Topics, unique_id: str, name: str, version: str) -> dict[str, object]:
    return {
        "name": name,
        "unique_id": unique_id,
        "availability_topic": topics.availability,
        "payload_available": ONLINE.decode(),
        "payload_not_available": OFFLINE.decode(),
        "device": device_block(topics.device, version),
        "origin": {"name": "edgecam", "sw_version": version},
    }


def _object_id(target: RuleTarget, part: str = "") -> str:
    """The object id of a rule's entity; ``part`` names which one (``in``, ``clip``, ...)."""
    return f"{target.camera}__{target.rule}__{part}" if part else f"{target.camera}__{target.rule}"


def _rule_common(
    topics: Topics, target: RuleTarget, version: str, part: str = ""
) -> dict[str, object]:
    """The fields every entity of one rule has (see :func:`_object_id` for ``part``)."""
    name = f"{target.camera} {target.rule} {part}" if part else f"{target.camera} {target.rule}"
    return _common(topics, f"edgecam_{topics.device}_{_object_id(target, part)}", name, version)


def _rule_entity(topics: Topics, target: RuleTarget, version: str) -> tuple[str, dict[str, object]]:
    config = _rule_common(topics, target, version)
    # The latest event's fields (duration, max score, dwell seconds, totals) as attributes.
    config["json_attributes_topic"] = topics.rule_attributes(target.camera, target.rule)
    if target.counting:
        config["state_topic"] = topics.rule_count(target.camera, target.rule)
        # Occupancy goes up and down; crossings only grow until a reset to 0.
        config["state_class"] = "measurement" if target.occupancy else "total_increasing"
        config["icon"] = "mdi:counter"
        return "sensor", config
    config["state_topic"] = topics.rule_state(target.camera, target.rule)
    config["payload_on"] = ON.decode()
    config["payload_off"] = OFF.decode()
    if target.kind in OCCUPANCY_KINDS:
        config["device_class"] = "occupancy"
    return "binary_sensor", config


def _direction_sensor(
    topics: Topics, target: RuleTarget, direction: str, version: str
) -> tuple[str, dict[str, object]]:
    """A sensor for one direction of a line count (``.../count/in`` or ``.../count/out``)."""
    config = _rule_common(topics, target, version, direction)
    config["state_topic"] = f"{topics.rule_count(target.camera, target.rule)}/{direction}"
    config["state_class"] = "total_increasing"
    config["icon"] = "mdi:counter"
    return _object_id(target, direction), config


def _sub_label_sensor(topics: Topics, target: RuleTarget, version: str) -> dict[str, object]:
    """The sub label (a species) of the rule's latest event that had one."""
    config = _rule_common(topics, target, version, "sub_label")
    config["state_topic"] = topics.rule_sub_label(target.camera, target.rule)
    config["icon"] = "mdi:tag-text"
    return config


def _snapshot_entity(topics: Topics, target: RuleTarget, version: str) -> dict[str, object]:
    config = _rule_common(topics, target, version, "snapshot")
    config["image_topic"] = topics.snapshot(target.camera, target.rule)
    config["content_type"] = "image/jpeg"
    return config


def _clip_sensor(topics: Topics, target: RuleTarget, version: str) -> dict[str, object]:
    """The latest clip's URL as a sensor's state; duration, truncation and more as attributes."""
    config = _rule_common(topics, target, version, "clip")
    config["state_topic"] = topics.clip(target.camera, target.rule)
    config["value_template"] = "{{ value_json.url }}"
    config["json_attributes_topic"] = topics.clip(target.camera, target.rule)
    config["icon"] = "mdi:filmstrip"
    return config


def _detect_switch(topics: Topics, camera: str, version: str) -> dict[str, object]:
    config = _common(
        topics, f"edgecam_{topics.device}_{camera}__detect", f"{camera} detection", version
    )
    config.update(
        {
            "command_topic": topics.detect_set(camera),
            "state_topic": topics.detect_state(camera),
            "payload_on": ON.decode(),
            "payload_off": OFF.decode(),
            "state_on": ON.decode(),
            "state_off": OFF.decode(),
            "retain": False,  # a retained command would switch detection at every restart
            "optimistic": False,
            "entity_category": "config",
        }
    )
    return config


def _stats_sensors(topics: Topics, version: str) -> list[tuple[str, dict[str, object]]]:
    sensors = []
    for key, name, unit in (("fps", "fps", "fps"), ("outbox_depth", "outbox depth", None)):
        config = _common(topics, f"edgecam_{topics.device}__{key}", name, version)
        config["state_topic"] = topics.stats
        config["value_template"] = f"{{{{ value_json.{key} }}}}"
        config["state_class"] = "measurement"
        config["entity_category"] = "diagnostic"
        if unit:
            config["unit_of_measurement"] = unit
        sensors.append((key, config))
    return sensors


def discovery_messages(
    topics: Topics,
    cameras: Sequence[str],
    targets: Iterable[RuleTarget],
    *,
    discovery_prefix: str = "homeassistant",
    snapshots: bool = False,
    version: str = "0",
) -> list[DiscoveryMessage]:
    """Discovery configs: one entity per rule and camera, a detection switch per camera, stats."""
    node = f"edgecam_{topics.device}"

    def topic(component: str, object_id: str) -> str:
        return f"{discovery_prefix}/{component}/{node}/{object_id}/config"

    messages = []
    for target in targets:
        component, config = _rule_entity(topics, target, version)
        messages.append(DiscoveryMessage(topic(component, _object_id(target)), config))
        if len(target.directions) > 1:  # both directions: a sensor each beside their sum
            for direction in target.directions:
                sensor_id, config = _direction_sensor(topics, target, direction, version)
                messages.append(DiscoveryMessage(topic("sensor", sensor_id), config))
        if target.classified:
            config = _sub_label_sensor(topics, target, version)
            sensor = topic("sensor", _object_id(target, "sub_label"))
            messages.append(DiscoveryMessage(sensor, config))
        if target.clip:
            config = _clip_sensor(topics, target, version)
            messages.append(DiscoveryMessage(topic("sensor", _object_id(target, "clip")), config))
        if snapshots:
            config = _snapshot_entity(topics, target, version)
            image = topic("image", _object_id(target, "snapshot"))
            messages.append(DiscoveryMessage(image, config))
    for camera in cameras:
        config = _detect_switch(topics, camera, version)
        messages.append(DiscoveryMessage(topic("switch", f"{camera}__detect"), config))
    for key, config in _stats_sensors(topics, version):
        messages.append(DiscoveryMessage(topic("sensor", key), config))
    return messages
