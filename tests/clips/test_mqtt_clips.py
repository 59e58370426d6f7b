"""Clips over MQTT with a real Mosquitto: the end event says where the clip is, the retained
``clip`` topic says it is written, and Home Assistant gets a sensor with its URL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clips.media import probe, write_h264
from tests.publish.broker import Broker, Subscriber
from tests.publish.conftest import broker, subscriber  # noqa: F401 (fixtures)

BASE = "edgecam/clipper"


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of the demo clip as H.264."""
    return write_h264(tmp_path_factory.mktemp("h264") / "mqtt.mp4", frames=80)


def test_end_events_and_home_assistant_carry_the_clip(
    tmp_path: Path,
    h264: Path,
    broker: Broker,  # noqa: F811
    subscriber: Subscriber,  # noqa: F811
) -> None:
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        "device: {name: clipper}\n"
        f"cameras:\n  plaza: {{source: {{type: av, path: {h264}, pace: fast}}}}\n"
        "rules:\n"
        "  - {name: people, kind: presence, labels: [person], clip: {pre: 1s, post: 1s}}\n"
        f"events: {{path: {tmp_path / 'store'}, min_free_bytes: 0,"
        " base_url: 'http://cam.example:8080'}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, home_assistant: {{discovery: true}},\n"
        f"       outbox: {{path: {tmp_path / 'outbox.sqlite'}}}}}\n"
        "http: {enabled: false}\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "edgecam", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    clip_topic = f"{BASE}/plaza/people/clip"
    messages = subscriber.wait_for(lambda ms: any(m.topic == clip_topic for m in ms))
    events: list[dict[str, Any]] = [
        json.loads(m.payload) for m in messages if m.topic == f"{BASE}/events"
    ]
    start = next(e for e in events if e["type"] == "start")
    end = next(e for e in events if e["type"] == "end")
    assert "clip" not in start
    assert end["clip"]["id"] == start["id"]
    assert end["clip"]["url"] == f"http://cam.example:8080/api/events/{start['id']}/clip.mp4"
    late = Subscriber(broker, [clip_topic]).start()  # a client that comes later gets it too
    try:
        (retained,) = late.wait_for(bool)
    finally:
        late.close()
    info = json.loads(retained.payload)
    assert retained.retain and info["status"] == "ready" and info["url"] == end["clip"]["url"]
    assert info["path"] == end["clip"]["path"] and info["reencoded"] is False
    assert len(probe(Path(info["path"])).times) == info["frames"] > 0
    discovery = "homeassistant/sensor/edgecam_clipper/plaza__people__clip/config"
    (sensor,) = [json.loads(m.payload) for m in messages if m.topic == discovery]
    assert (
        sensor["state_topic"] == clip_topic and sensor["value_template"] == "{{ value_json.url }}"
    )
