"""Build the service's parts from a validated config: the one place where wiring happens."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from edgecam.config.models import Config
from edgecam.errors import ConfigError
from edgecam.publish.base import EventSink
from edgecam.publish.jsonl import JsonLinesSink


def build_sinks(config: Config, events: str | None) -> list[EventSink]:
    """The sinks for ``config``: MQTT (started), then ``--events`` (a file or ``-``)."""
    sinks: list[EventSink] = []
    if events == "-":
        sinks.append(JsonLinesSink(sys.stdout))
    elif events:
        try:
            stream = Path(events).open("a", encoding="utf-8")  # noqa: SIM115 (the sink owns it)
        except OSError as err:
            raise ConfigError(f"--events {events}: cannot open for writing: {err}") from err
        sinks.append(JsonLinesSink(stream, owns_stream=True))
    if config.snapshots is not None:
        from edgecam.rules.snapshot import SnapshotStore

        sinks.append(SnapshotStore(config.snapshots))
    if config.mqtt is not None:
        from edgecam.publish.mqtt import MqttSink

        mqtt = MqttSink.from_config(config)
        mqtt.start()
        # First: an event is durable in the outbox before any other sink has seen it.
        sinks.insert(0, mqtt)
    return sinks


def bind_detect_commands(sinks: Sequence[EventSink], handler: Callable[[str, bool], None]) -> None:
    """Route MQTT ``detect/set`` commands of every MQTT sink to ``handler(camera, enabled)``."""
    from edgecam.publish.mqtt import MqttSink

    for sink in sinks:
        if isinstance(sink, MqttSink):
            sink.on_detect_command = handler
