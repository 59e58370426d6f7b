"""Reloads that cannot apply keep the service running on its old config, with one clear line.

One ``edgecam run`` with the real model on the test clip; each bad reload also renames the rule,
so the running rule's open state (a reload would end it) shows that the old config is kept.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

from edgecam import bundled
from tests.detect.test_selfcheck import SORTED
from tests.service.harness import NotifySocket, Service, running, wait, write_config


def _events(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _reload_fails(svc: Service, notify: NotifySocket, events: Path, failures: int) -> str:
    """SIGHUP; wait for the ``failures``-th failed reload; the old rule still fires. Its line."""
    svc.signal(signal.SIGHUP)
    notify.wait_for("RELOADING")
    notify.wait_for("READY")
    log = svc.wait_log("reload failed", count=failures)
    assert svc.proc.poll() is None, svc.stderr()
    # The old rule runs on: its state was not ended (a reload ends it), the new one never fired.
    assert [(e["type"], e["rule"]) for e in _events(events)] == [("start", "people")]
    assert svc.get_json("/healthz")[0] == 200  # frames are analysed (stale_after: 1s)
    lines = [line for line in log.splitlines() if re.search(r"ERROR|<3>", line)]
    assert len(lines) == failures, lines  # one line per failed reload, nothing else
    return lines[-1]


def test_bad_reloads_keep_the_running_config(tmp_path: Path) -> None:
    notify = NotifySocket(tmp_path / "notify.sock")
    config = write_config(tmp_path / "edgecam.yaml", rule="people")
    good = config.read_text()
    events = tmp_path / "events.jsonl"
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(bundled.model_file(bundled.MODEL).read_bytes()[:200_000])
    sorted_labels = tmp_path / "sorted.txt"
    sorted_labels.write_text(SORTED)

    def bad(extra: str) -> None:
        config.write_text(good.replace("name: people", "name: walkers") + extra)

    args = ["run", "--config", str(config), "--events", str(events)]
    with running(tmp_path, args, notify) as svc:
        notify.wait_for("READY")
        wait(lambda: bool(_events(events)), 60, svc.stderr)  # people are on the plaza
        pid = svc.proc.pid

        bad("cameras_typo: {}\n")
        line = _reload_fails(svc, notify, events, 1)
        assert "cameras_typo" in line and "keeping the running config" in line

        bad(f"model: {{path: {tmp_path / 'missing.tflite'}}}\n")
        line = _reload_fails(svc, notify, events, 2)
        assert "missing.tflite" in line and "keeping the running config" in line

        bad(f"model: {{path: {truncated}}}\n")
        line = _reload_fails(svc, notify, events, 3)
        assert "truncated.tflite" in line and "keeping the running config" in line

        bad("model: {device: usb}\n")  # no Edge TPU here (nor its library)
        line = _reload_fails(svc, notify, events, 4)
        assert "Edge TPU" in line and "keeping the running config" in line

        # A new detector proves itself before it is used: labels that do not fit the model.
        bad(f"model: {{name: coco, labels: {sorted_labels}}}\n")
        line = _reload_fails(svc, notify, events, 5)
        assert "on the known-answer image the person was labelled 'airplane'" in line, line
        assert "keeping the running config" in line

        # New sinks that cannot be built: the running ones stay, and nothing says "applied".
        bad(f"mqtt: {{host: 127.0.0.1, username: u, password_file: {tmp_path / 'no-password'}}}\n")
        line = _reload_fails(svc, notify, events, 6)
        assert "no-password" in line and "keeping the running config" in line
        assert "reload done" not in svc.stderr()

        assert svc.proc.pid == pid
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(30) == 0
    notify.close()
