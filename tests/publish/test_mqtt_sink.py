"""The MQTT sink against a real Mosquitto: events, states, availability, outages, commands."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest

from tests.publish.broker import Broker, Message, Subscriber
from tests.publish.sinks import (
    CAMERA,
    assert_all_in_order,
    event,
    make_sink,
    received_events,
    sink_config,
)

BASE = "edgecam/dev"


def _last(messages: list[Message], topic: str) -> bytes | None:
    payloads = [m.payload for m in messages if m.topic == topic]
    return payloads[-1] if payloads else None


def test_events_states_stats_and_availability(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    sink = make_sink(sink_config(broker, tmp_path / "outbox.sqlite"))
    subscriber.wait_for(lambda ms: _last(ms, f"{BASE}/availability") == b"online", what="online")
    sent = [event(1, "start"), event(2, "update"), event(3, "end")]
    for item in sent:
        sink.emit(item)
    sink.stats({"fps": 9.5})
    messages = subscriber.wait_for(lambda ms: len(received_events(ms)) >= 3, what="3 events")
    got = received_events(messages)
    assert_all_in_order(sent, got)
    assert got[0] == sent[0].to_json()
    assert set(got[0]) >= {"id", "type", "rule", "camera", "label", "score", "box", "ts"}
    state = f"{BASE}/{CAMERA}/person/state"
    messages = subscriber.wait_for(
        lambda ms: (
            [m.payload for m in ms if m.topic == state][-1:] == [b"OFF"]
            and len([m for m in ms if m.topic == state]) >= 3
        ),
        what="states",
    )
    states = [m.payload for m in messages if m.topic == state]
    assert states == [b"OFF", b"ON", b"OFF"]  # OFF at connect: no stale ON from a crash
    assert _last(messages, f"{BASE}/{CAMERA}/detect/state") == b"ON"
    stats = subscriber.wait_for(lambda ms: _last(ms, f"{BASE}/stats") is not None)
    payload = json.loads(_last(stats, f"{BASE}/stats") or b"")
    assert payload["fps"] == 9.5
    assert {"outbox_depth", "outbox_dropped", "mqtt_connected"} <= set(payload)
    sink.close()
    messages = subscriber.wait_for(lambda ms: _last(ms, f"{BASE}/availability") == b"offline")
    assert sink.outbox.depth == 0


def test_broker_restart_loses_nothing_and_keeps_order(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    sink = make_sink(sink_config(broker, tmp_path / "outbox.sqlite"))
    sent = [event(i) for i in range(300)]

    def produce() -> None:
        for item in sent:
            sink.emit(item)
            time.sleep(0.005)

    producer = threading.Thread(target=produce)
    producer.start()
    subscriber.wait_for(lambda ms: len(received_events(ms)) >= 50, what="first events")
    broker.stop()
    time.sleep(0.5)
    broker.start()
    producer.join()
    messages = subscriber.wait_for(
        lambda ms: {e["id"] for e in received_events(ms)} >= {e.id for e in sent},
        what="every event after the restart",
    )
    assert_all_in_order(sent, received_events(messages))
    sink.close()
    assert sink.outbox.depth == 0
    metrics = sink.delivery_metrics()
    assert metrics["events_pending"] == 0 and metrics["events_published"] >= len(sent)


def test_pending_events_survive_a_restart_of_the_sink(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.sqlite"
    broker.stop()
    first = make_sink(sink_config(broker, outbox))
    sent = [event(i) for i in range(40)]
    for item in sent:
        first.emit(item)
    first.close()  # broker down: nothing can be flushed, everything stays in the outbox
    assert first.outbox.depth == 40
    broker.start()
    second = make_sink(sink_config(broker, outbox))
    messages = subscriber.wait_for(lambda ms: len(received_events(ms)) >= 40, what="40 events")
    assert_all_in_order(sent, received_events(messages))
    second.close()
    assert second.outbox.depth == 0


def test_full_outbox_drops_the_oldest_and_says_so(
    broker: Broker, subscriber: Subscriber, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker.stop()
    config = sink_config(broker, tmp_path / "outbox.sqlite", outbox={
        "path": tmp_path / "outbox.sqlite", "max_events": 10,
    })  # fmt: skip
    sink = make_sink(config)
    sent = [event(i) for i in range(15)]
    with caplog.at_level(logging.WARNING):
        for item in sent:
            sink.emit(item)
    assert sink.outbox.depth == 10
    assert sink.outbox.dropped == 5
    assert "outbox full" in caplog.text
    broker.start()
    sink.stats({})
    messages = subscriber.wait_for(lambda ms: len(received_events(ms)) >= 10, what="10 events")
    assert_all_in_order(sent[5:], received_events(messages))
    stats = subscriber.wait_for(lambda ms: _last(ms, f"{BASE}/stats") is not None)
    assert json.loads(_last(stats, f"{BASE}/stats") or b"")["outbox_dropped"] == 5
    sink.close()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_commands_retained_ignored_live_honoured_bad_logged(
    broker: Broker,
    subscriber: Subscriber,
    tmp_path: Path,
    protocol: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    subscriber.publish(f"{BASE}/{CAMERA}/detect/set", b"OFF", retain=True)
    calls: list[tuple[str, bool]] = []
    sink = make_sink(sink_config(broker, tmp_path / "o.sqlite", protocol=protocol), start=False)
    sink.on_detect_command = lambda camera, enabled: calls.append((camera, enabled))
    with caplog.at_level(logging.INFO):
        sink.start()
        subscriber.wait_for(lambda ms: _last(ms, f"{BASE}/availability") == b"online")
        subscriber.publish(f"{BASE}/{CAMERA}/detect/set", b"maybe")
        subscriber.publish(f"{BASE}/nocam/detect/set", b"OFF")
        subscriber.publish(f"{BASE}/{CAMERA}/detect/set", b"OFF")
        subscriber.wait_for(lambda ms: _last(ms, f"{BASE}/{CAMERA}/detect/state") == b"OFF")
    assert calls == [(CAMERA, False)]
    assert "bad payload b'maybe'" in caplog.text
    assert "unknown camera 'nocam'" in caplog.text
    sink.close()


def test_a_restart_without_a_rule_clears_its_retained_topics_and_ha_entity(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    from edgecam.publish.mqtt import MqttSink
    from edgecam.rules.config import PresenceRuleConfig

    config = sink_config(broker, tmp_path / "outbox.sqlite", home_assistant={"discovery": True})
    kept, removed = PresenceRuleConfig(name="person"), PresenceRuleConfig(name="gone")
    gone_config = "homeassistant/binary_sensor/edgecam_dev/cam__gone/config"
    gone_state = f"{BASE}/{CAMERA}/gone/state"
    first = MqttSink(config, "dev", [CAMERA], [kept, removed])
    first.start()
    subscriber.wait_for(lambda ms: bool(_last(ms, gone_config)) and _last(ms, gone_state) == b"OFF")
    first.close()

    second = MqttSink(config, "dev", [CAMERA], [kept])  # the rule was deleted from the config
    second.start()
    subscriber.wait_for(
        lambda ms: _last(ms, gone_config) == b"" and _last(ms, gone_state) == b"",
        what="the removed rule's topics cleared",
    )
    # A client that connects now gets the retained topics of the current config only.
    fresh = Subscriber(broker, ["#"], client_id="fresh").start()
    try:
        fresh.publish("test/marker", b"x")  # arrives after the retained messages of "#"
        retained = {m.topic for m in fresh.wait_for(lambda ms: bool(fresh.on("test/marker")))}
    finally:
        fresh.close()
    assert gone_config not in retained and gone_state not in retained
    assert "homeassistant/binary_sensor/edgecam_dev/cam__person/config" in retained
    assert f"{BASE}/{CAMERA}/person/state" in retained
    second.close()


def test_retarget_on_reload_adds_new_rules_and_clears_removed_ones_without_going_offline(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    from edgecam.publish.mqtt import MqttSink
    from edgecam.rules.config import PresenceRuleConfig

    config = sink_config(broker, tmp_path / "outbox.sqlite", home_assistant={"discovery": True})

    def entity(rule: str) -> str:
        return f"homeassistant/binary_sensor/edgecam_dev/cam__{rule}/config"

    sink = MqttSink(config, "dev", [CAMERA], [PresenceRuleConfig(name="old")])
    sink.start()
    subscriber.wait_for(lambda ms: bool(_last(ms, entity("old"))), what="old entity")
    sink.retarget([CAMERA], [PresenceRuleConfig(name="new")])
    subscriber.wait_for(
        lambda ms: (
            bool(_last(ms, entity("new")))
            and _last(ms, f"{BASE}/{CAMERA}/new/state") == b"OFF"
            and _last(ms, entity("old")) == b""
            and _last(ms, f"{BASE}/{CAMERA}/old/state") == b""
        ),
        what="new rule published, old one cleared",
    )
    availability = [m.payload for m in subscriber.on(f"{BASE}/availability")]
    assert availability == [b"online"]  # in place: no reconnect, no offline blip
    sink.close()
