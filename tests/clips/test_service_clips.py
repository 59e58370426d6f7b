"""``edgecam run`` with clips: a full disk loses no event; SIGTERM leaves no half-written clip."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.clips.media import probe, write_h264
from tests.clips.test_storage import fill, small_disk  # noqa: F401 (a fixture)
from tests.service.harness import running, wait


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clip as H.264 (24 s)."""
    return write_h264(tmp_path_factory.mktemp("h264") / "svc.mp4", frames=240)


def _config(path: Path, video: Path, events_dir: Path, post: str = "1s") -> Path:
    path.write_text(
        "device: {name: clips}\n"
        "cameras:\n"
        f"  plaza: {{source: {{type: av, path: {video}, pace: realtime}}}}\n"
        "rules:\n"
        "  - {name: people, kind: presence, labels: [person], min_score: 0.5, off_delay: 0.5s,\n"
        f"     clip: {{pre: 1s, post: {post}, max: 1m}}}}\n"
        "  - {name: crossing, kind: line, line: middle, labels: [person],\n"
        f"     clip: {{pre: 1s, post: 1s}}}}\n"
        f"events: {{path: {events_dir}, min_free_bytes: 0}}\n"
        'http: {listen: "127.0.0.1:0"}\n'
        "health: {stale_after: 30s, invoke_timeout: 60s, stop_timeout: 10s}\n"
    )
    text = path.read_text().replace(
        "pace: realtime}}\n",
        "pace: realtime}, lines: {middle: {points: [[0.5, 0.0], [0.5, 1.0]]}}}\n",
    )
    path.write_text(text)
    return path


def _events(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _clip_infos(store: Path) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(store / "events.sqlite")) as db:
        return [json.loads(i) for (i,) in db.execute("SELECT clip_info FROM events") if i]


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_a_full_disk_loses_no_event(tmp_path: Path, h264: Path, small_disk: Path) -> None:  # noqa: F811
    config = _config(tmp_path / "edgecam.yaml", h264, small_disk / "events")
    events = tmp_path / "events.jsonl"
    with running(tmp_path, ["run", "--config", str(config), "--events", str(events)], None) as svc:
        svc.wait_log("HTTP endpoint on")
        fill(small_disk)  # the disk fills up while the service runs
        svc.wait_log("clips: disk full")
        code, _, body = svc.get("/metrics")
        assert code == 200
        assert _metric(body.decode(), 'edgecam_clips_failed_total{reason="disk_full"}') >= 1
        assert svc.proc.wait(90) == 0
    log = svc.stderr()
    stopped = re.search(r"stopped: \d+ frames analysed, (\d+) events", log)
    assert stopped, log
    delivered = _events(events)
    assert len(delivered) == int(stopped.group(1)) > 3  # every event went out
    assert any("clip" in e for e in delivered)  # planned, then not written
    assert log.count("clips: disk full") == 1  # one warning, not one per clip
    assert not list(small_disk.rglob("*.mp4")) and not list(small_disk.rglob("*.part"))


def test_clips_are_written_during_the_run_and_counted(tmp_path: Path, h264: Path) -> None:
    config = _config(tmp_path / "edgecam.yaml", h264, tmp_path / "store")
    events = tmp_path / "events.jsonl"

    def written() -> float:
        return _metric(svc.get("/metrics")[2].decode(), "edgecam_clips_written_total")

    with running(tmp_path, ["run", "--config", str(config), "--events", str(events)], None) as svc:
        svc.wait_log("HTTP endpoint on")
        wait(lambda: written() >= 1, 60, svc.stderr)
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(60) == 0
    infos = _clip_infos(tmp_path / "store")
    ready = [i for i in infos if i["status"] == "ready"]
    assert ready
    for info in ready:
        assert info["codec"] == "h264" and info["reencoded"] is False
        assert len(probe(Path(info["path"])).times) == info["frames"]
    with_clip = [e for e in _events(events) if "clip" in e]
    assert {e["clip"]["id"] for e in with_clip} >= {i["id"] for i in ready}  # type: ignore[index]


def test_sigterm_mid_clip_leaves_finished_clips_only(tmp_path: Path, h264: Path) -> None:
    config = _config(tmp_path / "edgecam.yaml", h264, tmp_path / "store", post="30s")
    events = tmp_path / "events.jsonl"
    with running(tmp_path, ["run", "--config", str(config), "--events", str(events)], None) as svc:
        wait(lambda: any(e["type"] == "start" for e in _events(events)), 60, svc.stderr)
        time.sleep(1.0)
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(60) == 0
    store = tmp_path / "store"
    assert not list(store.rglob("*.part"))
    clips = list(store.rglob("*.mp4"))
    assert clips
    for clip in clips:
        assert probe(clip).times  # whole files that decode
    infos = _clip_infos(store)
    assert any("recording stopped before the clip's end" in i["truncated"] for i in infos)
