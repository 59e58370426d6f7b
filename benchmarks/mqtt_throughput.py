"""Event throughput through the outbox to a real Mosquitto, and creation-to-receipt latency.

Run from the repository root: ``.venv/bin/python -m benchmarks.mqtt_throughput [--events N]``.
Prints one JSON object. Needs /usr/sbin/mosquitto (apt-get install mosquitto).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from edgecam.event import Event, iso_utc, new_event_id
from edgecam.publish.config import MqttConfig
from edgecam.publish.mqtt import MqttSink
from edgecam.rules.config import PresenceRuleConfig
from tests.publish.broker import Broker, Subscriber


class Receipts:
    """Receipt time of each event id, seen by a subscriber."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.cond = threading.Condition()

    def on_message(self, _c: Any, _u: Any, message: Any) -> None:
        """Record the first receipt of an event."""
        now = time.time()
        event_id = json.loads(message.payload)["id"]
        with self.cond:
            self.times.setdefault(event_id, now)
            self.cond.notify_all()

    def wait(self, count: int, timeout: float = 120.0) -> None:
        """Until ``count`` distinct events arrived."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.times) >= count, timeout)


def _event(seq: int) -> Event:
    return Event(
        id=new_event_id(), type="update", rule="person", camera="cam", ts=iso_utc(time.time()),
        frame_seq=seq, label="person", score=0.91, box=(0.1, 0.2, 0.3, 0.4), track_id=seq,
    )  # fmt: skip


def _percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1e3, 3), "p99_ms": round(cuts[98] * 1e3, 3),
            "max_ms": round(max(values) * 1e3, 3)}  # fmt: skip


def run_phase(
    broker: Broker, work: Path, synchronous: str, count: int, rate: float | None
) -> dict[str, object]:
    """Emit ``count`` events (as fast as possible, or at ``rate``/s) and time their receipt."""
    receipts = Receipts()
    sub = Subscriber(broker, ["edgecam/bench/events"], client_id=f"bench-{time.monotonic_ns()}")
    sub.start()
    sub._client.on_message = receipts.on_message  # only ids and times matter here
    outbox = {"path": work / f"outbox-{time.monotonic_ns()}.sqlite", "synchronous": synchronous}
    config = MqttConfig.model_validate({"host": "127.0.0.1", "port": broker.port, "outbox": outbox})
    sink = MqttSink(config, "bench", ["cam"], [PresenceRuleConfig(name="person")])
    sink.start()
    time.sleep(0.5)  # connected
    created: dict[str, float] = {}
    start = time.time()
    for seq in range(count):
        event = _event(seq)
        created[event.id] = time.time()
        sink.emit(event)
        if rate:
            time.sleep(max(0.0, start + (seq + 1) / rate - time.time()))
    emitted = time.time()
    receipts.wait(count)
    done = max(receipts.times.values())
    sink.close()
    sub.close()
    latencies = [receipts.times[i] - t for i, t in created.items() if i in receipts.times]
    return {
        "synchronous": synchronous, "events": count, "received": len(receipts.times),
        "rate_asked": rate, "emit_per_s": round(count / (emitted - start)),
        "delivered_per_s": round(count / (done - start)), **_percentiles(latencies),
    }  # fmt: skip


def main() -> None:
    """Run the phases and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000, help="events in the burst phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker = Broker(work / "broker")
        broker.start()
        try:
            results = [
                run_phase(broker, work, "normal", args.events, None),
                run_phase(broker, work, "normal", 1000, 200.0),
                run_phase(broker, work, "full", 1000, None),
            ]
        finally:
            broker.stop()
    print(json.dumps({"benchmark": "mqtt_throughput", "phases": results}, indent=1))


if __name__ == "__main__":
    main()
