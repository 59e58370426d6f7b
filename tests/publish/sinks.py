"""Helpers for MQTT sink tests: a sink on a test broker, and events."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from edgecam.event import Event, EventType, iso_utc, new_event_id
from edgecam.publish.config import MqttConfig
from edgecam.publish.mqtt import MqttSink
from edgecam.rules.config import PresenceRuleConfig
from tests.publish.broker import Broker, Message

DEVICE = "dev"
CAMERA = "cam"


def sink_config(broker: Broker, outbox_path: Path, **fields: Any) -> MqttConfig:
    """A config for ``broker`` with a fast reconnect and the outbox at ``outbox_path``."""
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": broker.port,
        "outbox": {"path": outbox_path},
        "reconnect": {"min_delay": 1, "max_delay": 1},
        "flush_timeout": "5s",
    }
    return MqttConfig.model_validate({**base, **fields})


def make_sink(config: MqttConfig, *, start: bool = True) -> MqttSink:
    """A sink for device ``dev`` with camera ``cam`` and one presence rule ``person``."""
    sink = MqttSink(config, DEVICE, [CAMERA], [PresenceRuleConfig(name="person")])
    if start:
        sink.start()
    return sink


def event(seq: int, kind: EventType = "update") -> Event:
    """An event of rule ``person`` on ``cam`` numbered by ``frame_seq``."""
    return Event(
        id=new_event_id(), type=kind, rule="person", camera=CAMERA, ts=iso_utc(time.time()),
        frame_seq=seq, label="person", score=0.9, box=(0.1, 0.2, 0.3, 0.4), track_id=1,
    )  # fmt: skip


def received_events(messages: list[Message]) -> list[dict[str, Any]]:
    """Decoded events received on the device's events topic, in arrival order."""
    topic = f"edgecam/{DEVICE}/events"
    return [json.loads(m.payload) for m in messages if m.topic == topic]


def assert_all_in_order(sent: list[Event], got: list[dict[str, Any]]) -> None:
    """Every sent event arrived; first arrivals keep the order; repeats are exact redeliveries."""
    first: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for item in got:
        if item["id"] in first:
            assert item == first[item["id"]], "a redelivery differs from the first delivery"
        else:
            first[item["id"]] = item
            order.append(item["id"])
    assert order == [e.id for e in sent]
