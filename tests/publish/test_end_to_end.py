"""``edgecam run`` publishing to a real Mosquitto: availability, outages, SIGKILL, commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DATA
from tests.publish.broker import Broker, Message, Subscriber, wait_until

DEVICE = "e2e"
BASE = f"edgecam/{DEVICE}"
EVENT_KEYS = {"id", "type", "rule", "camera", "label", "score", "box", "ts", "frame_seq"}

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, broker: Broker, *, loop: bool = False) -> Path:
    path = tmp_path / "edgecam.yaml"
    path.write_text(
        f"device: {{name: {DEVICE}}}\n"
        "cameras:\n"
        f"  plaza: {{source: {{type: file, path: {DATA / 'vtest.avi'}, pace: realtime, "
        f"loop: {str(loop).lower()}}}}}\n"
        "rules:\n"
        "  - {name: p5, kind: presence, labels: [person], min_score: 0.5, off_delay: 0}\n"
        "  - {name: p7, kind: presence, labels: [person], min_score: 0.7, off_delay: 0}\n"
        "  - {name: p8, kind: presence, labels: [person], min_score: 0.8, off_delay: 0}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, reconnect: {{max_delay: 1s}},\n"
        f"       outbox: {{path: {tmp_path / 'outbox.sqlite'}}}}}\n"
    )
    return path


def _start(config: Path, events: Path, *extra: str) -> subprocess.Popen[bytes]:
    with (events.parent / f"edgecam-{time.monotonic_ns()}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "edgecam", "run", "--config", str(config), "--events",
             str(events), *extra],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _events(messages: list[Message]) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in messages if m.topic == f"{BASE}/events"]


def _availability(messages: list[Message]) -> bytes | None:
    values = [m.payload for m in messages if m.topic == f"{BASE}/availability"]
    return values[-1] if values else None


def _assert_delivered(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    """All expected events arrived, in order; repeats are identical redeliveries."""
    first: dict[str, dict[str, Any]] = {}
    for item in got:
        assert first.setdefault(item["id"], item) == item
    order = [i for i in dict.fromkeys(e["id"] for e in got) if i in {e["id"] for e in expected}]
    assert order == [e["id"] for e in expected]
    for event in expected:
        assert first[event["id"]] == event


def test_run_publishes_through_a_broker_outage(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    # A stale retained OFF on the command topic must not pause detection.
    subscriber.publish(f"{BASE}/plaza/detect/set", b"OFF", retain=True)
    events = tmp_path / "events.jsonl"
    proc = _start(_config(tmp_path, broker), events, "--max-frames", "150")
    try:
        subscriber.wait_for(lambda ms: _availability(ms) == b"online", 60, "online")
        subscriber.wait_for(lambda ms: len(_events(ms)) >= 1, 60, "a first event")
        broker.stop()
        time.sleep(5.0)  # the run goes on; its events wait in the outbox
        broker.start()
        assert proc.wait(120) == 0
    finally:
        proc.kill()
    expected = _lines(events)
    messages = subscriber.wait_for(
        lambda ms: {e["id"] for e in _events(ms)} >= {e["id"] for e in expected}, 30, "all events"
    )
    _assert_delivered(expected, _events(messages))
    assert all(set(e) >= EVENT_KEYS for e in expected)
    assert [m.payload for m in messages if m.topic == f"{BASE}/plaza/detect/state"][-1] == b"ON"
    assert _availability(messages) == b"offline"  # clean stop


def test_sigkill_publishes_the_last_will(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    proc = _start(_config(tmp_path, broker, loop=True), tmp_path / "events.jsonl")
    try:
        subscriber.wait_for(lambda ms: _availability(ms) == b"online", 60, "online")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    subscriber.wait_for(lambda ms: _availability(ms) == b"offline", 30, "the last will")


def test_sigkill_while_the_broker_is_down_loses_nothing(
    broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    config = _config(tmp_path, broker, loop=True)
    events = tmp_path / "events.jsonl"
    proc = _start(config, events)
    try:
        subscriber.wait_for(lambda ms: len(_events(ms)) >= 1, 60, "a first event")
        broker.stop()
        seen = len(_lines(events))
        wait_until(lambda: len(_lines(events)) >= seen + 2, 60, "events while the broker is down")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    before_kill = _lines(events)
    broker.start()
    again = _start(config, tmp_path / "events-2.jsonl", "--max-frames", "3")
    try:
        assert again.wait(120) == 0
    finally:
        again.kill()
    messages = subscriber.wait_for(
        lambda ms: {e["id"] for e in _events(ms)} >= {e["id"] for e in before_kill},
        30,
        "the events from before the kill",
    )
    _assert_delivered(before_kill, _events(messages))
