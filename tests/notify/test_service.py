"""``edgecam run`` with notify: kill -9 with notifications pending; where the token is not."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
from pathlib import Path

from tests.notify.notes import TOKEN
from tests.notify.receivers import HttpReceiver, wait_until
from tests.service.harness import running, write_config


def _config(tmp_path: Path, port: int) -> Path:
    url_file = tmp_path / "hook.url"
    url_file.write_text(f"json://127.0.0.1:{port}/hook/{TOKEN}\n")
    notify = (
        "log: {level: debug}\n"  # the token stays out of even the debug log
        "notify:\n"
        f"  path: {tmp_path / 'queues'}\n"
        "  retry_min: 0.2s\n"
        "  retry_max: 0.5s\n"
        "  failing_after: 1s\n"
        "  targets:\n"
        f"    hook: {{url_file: {url_file}, body: '{{id}}', types: [start, end]}}\n"
    )
    config = write_config(tmp_path / "edgecam.yaml", extra=notify)
    text = config.read_text().replace("min_score: 0.5}", "min_score: 0.5, notify: [hook]}")
    config.write_text(text)
    return config


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return -1.0


def test_kill_9_with_pending_notifications_they_arrive_after_restart(tmp_path: Path) -> None:
    hook = HttpReceiver()  # not started: the receiver is down
    config = _config(tmp_path, hook.port)
    events = tmp_path / "events.jsonl"
    args = ["run", "--config", str(config), "--events", str(events)]
    with running(tmp_path, args, None) as service:

        def pending() -> float:
            _, _, body = service.get("/metrics")
            return _metric(body.decode(), 'edgecam_notify_pending{target="hook"}')

        wait_until(lambda: pending() >= 1, 60.0, pending)
        wait_until(
            lambda: "notify target hook" in str(service.get_json("/healthz")[1]["reason"]),
            10.0, lambda: service.get_json("/healthz"),
        )  # fmt: skip
        health = service.get_json("/healthz")[1]
        assert health["status"] == "degraded"
        # The token is nowhere a user or a scraper can see.
        seen = [service.get(path)[2] for path in ("/metrics", "/api/config", "/", "/healthz")]
        service.proc.send_signal(signal.SIGKILL)
        service.proc.wait(10)
        first_log = service.stderr()
    for text in [*seen, first_log.encode(), json.dumps(health).encode()]:
        assert TOKEN.encode() not in text
    for path in (tmp_path / "queues").glob("hook.sqlite*"):
        assert TOKEN.encode() not in path.read_bytes()
    with contextlib.closing(sqlite3.connect(tmp_path / "queues" / "hook.sqlite")) as db:
        (queued,) = db.execute("SELECT COUNT(*) FROM pending").fetchone()
        topics = {t for (t,) in db.execute("SELECT topic FROM pending")}
    assert queued >= 1
    assert topics == {"hook"}, "the queue names the target, never its URL"
    ids = [json.loads(line)["id"] for line in events.read_text().splitlines()]
    hook.start()
    (tmp_path / "stderr.log").rename(tmp_path / "first.log")
    try:
        with running(tmp_path, args, None) as service:
            wait_until(lambda: len(hook.requests) >= queued, 30.0, lambda: hook.requests)
            service.proc.send_signal(signal.SIGTERM)
            service.proc.wait(30)
            assert TOKEN not in service.stderr()
    finally:
        hook.stop()
    bodies = [r.json()["message"] for r in hook.requests]
    assert bodies[:queued] == [i for i in ids if i in bodies][:queued], "the pending ones, in order"
    assert len(bodies) == len(set(bodies)), "none twice"


def test_reload_applies_a_changed_notify_section(tmp_path: Path) -> None:
    hook = HttpReceiver().start()
    config = _config(tmp_path, hook.port)
    try:
        with running(tmp_path, ["run", "--config", str(config)], None) as service:
            hook.wait_for(1, timeout=60.0)
            config.write_text(config.read_text().replace("body: '{id}'", "body: 'NEW {id}'"))
            service.proc.send_signal(signal.SIGHUP)
            service.wait_log("reload done: applied notify")
            # The new rule engine starts the presence again: its start event goes out anew.
            wait_until(
                lambda: any(r.json()["message"].startswith("NEW ") for r in hook.requests),
                30.0, lambda: [r.json()["message"] for r in hook.requests],
            )  # fmt: skip
            service.proc.send_signal(signal.SIGTERM)
            service.proc.wait(30)
            assert TOKEN not in service.stderr()
    finally:
        hook.stop()
    messages = [r.json()["message"] for r in hook.requests]
    assert len(messages) == len(set(messages)), "none twice across the reload"
