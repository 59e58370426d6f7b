"""A full disk under the outbox (a real, small tmpfs): events still go out, losses are counted.

As measured before the fix: on a full 64 KB filesystem 0 of 32 events were delivered while
health said ok; a 2 MB filesystem full for 12 s lost 18 of 50; starting on a full disk exited.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from edgecam.publish.mqtt import MqttSink
from edgecam.publish.outbox import Outbox
from edgecam.rules.config import PresenceRuleConfig
from tests.publish.broker import Broker, Subscriber, wait_until
from tests.publish.sinks import (
    CAMERA,
    DEVICE,
    assert_all_in_order,
    event,
    make_sink,
    received_events,
    sink_config,
)
from tests.reliability.tmpfs import fill, small_filesystem


def _online(subscriber: Subscriber) -> None:
    topic = f"edgecam/{DEVICE}/availability"
    subscriber.wait_for(lambda ms: any(m.topic == topic for m in ms), what="online")


def test_on_a_full_64k_disk_every_event_is_sent_live_and_counted(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    with small_filesystem(tmp_path / "small", "64k") as disk:
        path = disk / "outbox.sqlite"
        Outbox(path).close()  # an outbox from an earlier run, then the disk fills up
        fill(disk)
        sink = make_sink(sink_config(broker, path))
        _online(subscriber)
        sent = [event(i) for i in range(32)]
        for item in sent:
            sink.emit(item)
        messages = subscriber.wait_for(lambda ms: len(received_events(ms)) >= 32, what="32")
        assert_all_in_order(sent, received_events(messages))
        wait_until(lambda: sink.published == 32, 30.0, "32 acknowledged")
        figures = sink.delivery_metrics()
        # A few may still fit into pages the database already had; the rest cannot be stored.
        assert figures["outbox_degraded"] == 1 and 20 <= figures["events_unstored"] <= 32
        assert figures["events_lost"] == 0 and figures["events_published"] == 32
        (reason,) = sink.degraded()
        assert "database or disk is full" in reason
        sink.close()
        assert sink.lost == 0  # everything was acknowledged: nothing was left to lose


def test_starting_on_a_full_disk_runs_degraded_and_recovers_when_space_returns(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    with small_filesystem(tmp_path / "small", "2m") as disk:
        filler = fill(disk)
        sink = make_sink(sink_config(broker, disk / "outbox.sqlite"))  # no exit: degraded
        assert sink.degraded()
        _online(subscriber)
        sent = [event(i) for i in range(25)]
        for item in sent:
            sink.emit(item)
        subscriber.wait_for(lambda ms: len(received_events(ms)) >= 25, what="25 sent live")
        filler.unlink()
        wait_until(lambda: not sink.degraded(), 30.0, "recovery")
        later = [event(i) for i in range(25, 50)]
        for item in later:
            sink.emit(item)
        messages = subscriber.wait_for(lambda ms: len(received_events(ms)) >= 50, what="50")
        assert_all_in_order(sent + later, received_events(messages))
        assert sink.outbox.unstored == 25 and sink.lost == 0
        sink.stats({})
        topic = f"edgecam/{DEVICE}/stats"
        stats = subscriber.wait_for(lambda ms: any(m.topic == topic for m in ms), what="stats")
        payload = json.loads([m.payload for m in stats if m.topic == topic][-1])
        assert payload["outbox_unstored"] == 25 and payload["outbox_lost"] == 0
        assert payload["outbox_degraded"] is None
        sink.close()


def test_full_disk_and_broker_down_counts_every_event_lost(
    broker: Broker, subscriber: Subscriber, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_filesystem(tmp_path / "small", "64k") as disk:
        fill(disk)
        broker.stop()
        outbox = Outbox(disk / "outbox.sqlite", memory_limit=5)
        # A small memory bound, to reach it quickly.
        rules = [PresenceRuleConfig(name="person")]
        sink = MqttSink(sink_config(broker, outbox.path), DEVICE, [CAMERA], rules, outbox=outbox)
        sink.start()
        sent = [event(i) for i in range(8)]
        for item in sent:
            sink.emit(item)
        assert (outbox.unstored, outbox.lost, outbox.depth) == (8, 3, 5)
        assert "memory full too" in caplog.text
        broker.start()
        messages = subscriber.wait_for(lambda ms: len(received_events(ms)) >= 5, what="5")
        assert_all_in_order(sent[3:], received_events(messages))
        sink.stats({})
        topic = f"edgecam/{DEVICE}/stats"
        stats = subscriber.wait_for(lambda ms: any(m.topic == topic for m in ms), what="stats")
        assert json.loads([m.payload for m in stats if m.topic == topic][-1])["outbox_lost"] == 3
        sink.close()


def test_while_the_disk_fills_degraded_holds_until_a_write_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No flapping: once degraded, it stays so (no false "writable again") until space returns."""
    with small_filesystem(tmp_path / "small", "1m") as disk:
        outbox = Outbox(disk / "outbox.sqlite", retry_interval=0.0)
        filler = disk / "filler"
        samples: list[bool] = []
        with caplog.at_level(logging.INFO, logger="edgecam.publish.outbox"):
            with filler.open("wb") as grow:
                for i in range(400):  # the filler grows while events come in
                    try:
                        grow.write(b"\0" * 8192)
                        grow.flush()
                    except OSError:
                        pass
                    outbox.add(f"e{i}", "t", b"x" * 300, 0.0)
                    samples.append(outbox.degraded is None)
            first = samples.index(False)
            assert not any(samples[first:]), "ok again while the disk was still full"
            assert "writable again" not in caplog.text
            filler.unlink()
            outbox.add("after", "t", b"x", 0.0)  # the real write that ends it
            assert outbox.degraded is None
            assert caplog.text.count("writable again") == 1
        assert outbox.lost == 0 and outbox.depth == 401
        outbox.close()


def test_at_a_stop_on_a_full_disk_with_the_broker_down_the_lines_agree(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_filesystem(tmp_path / "small", "64k") as disk:
        fill(disk)
        broker.stop()
        rules = [PresenceRuleConfig(name="person")]
        outbox = Outbox(disk / "outbox.sqlite")
        sink = MqttSink(sink_config(broker, outbox.path), DEVICE, [CAMERA], rules, outbox=outbox)
        sink.start()
        for i in range(92):
            sink.emit(event(i))
        with caplog.at_level(logging.INFO):
            sink.close()
        lines = [r.getMessage() for r in caplog.records]
        lost = next(i for i, line in enumerate(lines) if "could not be kept" in line)
        final = next(i for i, line in enumerate(lines) if line.startswith("MQTT: disconnected"))
        assert "92 event(s)" in lines[lost] and lost < final, lines
        assert lines[final].startswith("MQTT: disconnected; 0 event(s) kept"), lines[final]
        assert "92 lost at this stop" in lines[final]
        assert not any("left in the outbox" in line for line in lines)
