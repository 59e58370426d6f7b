"""``edgecam run`` on a clip of two birds: species as sub labels, a species rule, MQTT tallies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.publish.broker import Broker, Subscriber

DEVICE = "feeder-pi"
BASE = f"edgecam/{DEVICE}"
CHICKADEE, MACAW = "Black-capped Chickadee", "Scarlet Macaw"


def _config(tmp_path: Path, clip: Path, broker: Broker) -> Path:
    path = tmp_path / "edgecam.yaml"
    path.write_text(
        f"device: {{name: {DEVICE}}}\n"
        "cameras:\n"
        f"  feeder: {{source: {{type: file, path: {clip}, pace: every}}}}\n"
        "classify:\n"
        "  - {name: birds}\n"
        "rules:\n"
        "  - {name: any_bird, kind: presence, labels: [bird], off_delay: 0, snapshot: false}\n"
        f"  - {{name: macaw, kind: presence, labels: [bird], sub_labels: [{MACAW}],"
        " off_delay: 0, snapshot: false}\n"
        "  - {name: species, kind: count, labels: [bird], by: sub_label, reset: {every: daily},"
        " snapshot: false}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port},"
        f" outbox: {{path: {tmp_path / 'o.sqlite'}}}}}\n"
    )
    return path


def _run(config: Path, events: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edgecam", "run", "--config", str(config), "--events", str(events)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


def _retained(subscriber: Subscriber, topic: str) -> bytes | None:
    found = subscriber.on(topic)
    return found[-1].payload if found else None


def test_birds_are_named_filtered_and_tallied(
    tmp_path: Path, bird_clip: Path, broker: Broker, subscriber: Subscriber
) -> None:
    events_file = tmp_path / "events.jsonl"
    _run(_config(tmp_path, bird_clip, broker), events_file)
    lines = events_file.read_text().splitlines()
    events: list[dict[str, Any]] = [json.loads(line) for line in lines]

    # Each bird's presence ends with the species it was voted to be, scientific name included.
    ends = [e for e in events if e["rule"] == "any_bird" and e["type"] == "end"]
    assert [e.get("sub_label") for e in ends] == [CHICKADEE, MACAW]
    assert ends[0]["scientific_name"] == "Poecile atricapillus"
    assert ends[1]["scientific_name"] == "Ara macao"
    for end in ends:
        assert end["sub_score"] >= 0.5
        assert end["sub_top"][0] == [end["sub_label"], end["sub_score"]]
        assert len(end["sub_top"]) == 3

    # The species rule fires for the macaw only.
    macaw = [e for e in events if e["rule"] == "macaw"]
    assert [e["type"] for e in macaw] == ["start", "end"]
    assert {e["sub_label"] for e in macaw} == {MACAW}
    assert macaw[0]["frame_seq"] > ends[0]["frame_seq"]  # after the chickadee left

    # One count per species, carried by count events and retained per species on MQTT.
    tallies = [e for e in events if e["rule"] == "species"]
    assert [(e["sub_label"], e["count"]) for e in tallies] == [(CHICKADEE, 1), (MACAW, 1)]
    assert tallies[-1]["totals"] == {CHICKADEE: 1, MACAW: 1, "total": 2}
    topic = f"{BASE}/feeder/species/count"
    subscriber.wait_for(lambda _: _retained(subscriber, topic) == b"2", 30, "the total")
    assert _retained(subscriber, f"{topic}/black-capped_chickadee") == b"1"
    assert _retained(subscriber, f"{topic}/scarlet_macaw") == b"1"
    assert _retained(subscriber, f"{BASE}/feeder/macaw/sub_label") == MACAW.encode()
    assert _retained(subscriber, f"{BASE}/feeder/any_bird/sub_label") == MACAW.encode()
    stats = json.loads(_retained(subscriber, f"{BASE}/stats") or b"{}")
    assert stats["classify"]["classified"] >= 4  # a few crops per bird
    assert stats["classify"]["dropped"] == 0
