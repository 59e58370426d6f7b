"""SIGTERM while the broker is down: events stay in the outbox and arrive after the next start."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from edgecam.publish.outbox import Outbox
from tests.publish.broker import Broker, Subscriber
from tests.service.harness import NotifySocket, running, wait, write_config


def _event_ids(path: Path) -> set[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return {json.loads(line)["id"] for line in lines if line}


def _value(metrics: str, name: str) -> float:
    lines = metrics.splitlines()
    values = [float(line.split()[1]) for line in lines if line.startswith(name + " ")]
    assert values, f"{name} not in /metrics"
    return values[0]


def test_sigterm_with_the_broker_down_keeps_events_for_the_next_start(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")  # its port is chosen, but nothing listens yet
    outbox = tmp_path / "state" / "outbox.sqlite"
    config = write_config(
        tmp_path / "edgecam.yaml",
        extra=(
            f"mqtt: {{host: 127.0.0.1, port: {broker.port}, flush_timeout: 1s,"
            f" outbox: {{path: {outbox}}}}}\n"
        ),
    )
    notify = NotifySocket(tmp_path / "notify.sock")
    events = tmp_path / "events.jsonl"
    args = ["run", "--config", str(config), "--events", str(events)]
    with running(tmp_path, args, notify) as svc:
        notify.wait_for("READY")
        wait(lambda: bool(_event_ids(events)), 60.0, svc.stderr)
        metrics = svc.get("/metrics")[2].decode()
        assert _value(metrics, "edgecam_outbox_depth") >= 1
        assert _value(metrics, "edgecam_events_pending") >= 1
        svc.signal(signal.SIGTERM)
        notify.wait_for("STOPPING")
        assert svc.proc.wait(30) == 0, svc.stderr()
    first_run = _event_ids(events)
    kept = Outbox(outbox)
    pending = {message.event_id for message in kept.peek(1000)}
    kept.close()
    assert first_run and first_run <= pending

    broker.start()
    subscriber = Subscriber(broker, ["edgecam/svc/events", "edgecam/svc/availability"]).start()
    try:
        with running(tmp_path, ["run", "--config", str(config)], notify) as svc:

            def delivered() -> set[str]:
                return {json.loads(m.payload)["id"] for m in subscriber.on("edgecam/svc/events")}

            notify.wait_for("READY")
            wait(lambda: first_run <= delivered(), 60.0, svc.stderr)
            svc.signal(signal.SIGTERM)
            assert svc.proc.wait(30) == 0, svc.stderr()
        topic = "edgecam/svc/availability"
        subscriber.wait_for(
            lambda msgs: [m.payload for m in msgs if m.topic == topic][-1:] == [b"offline"],
            what="offline after SIGTERM",
        )
    finally:
        subscriber.close()
        broker.stop()
        notify.close()
