"""``edgecam run`` against a damaged outbox and a full disk: it starts, detects, says so.

As measured before: a damaged outbox made the service exit 1 at every start (a crash loop under
systemd), and on a full disk every event was lost while ``/healthz`` said ok.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from edgecam.publish.outbox import Outbox
from tests.publish.broker import Broker, Subscriber
from tests.reliability.test_corpus import CONFIGS
from tests.reliability.tmpfs import fill, small_filesystem
from tests.service.harness import NotifySocket, Service, running, wait, write_config

EVENTS = "edgecam/svc/events"


def _metric(svc: Service, name: str) -> float:
    for line in svc.get("/metrics")[2].decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _config(tmp_path: Path, broker: Broker, outbox: Path) -> Path:
    mqtt = f"mqtt: {{host: 127.0.0.1, port: {broker.port}, outbox: {{path: {outbox}}}}}\n"
    return write_config(tmp_path / "edgecam.yaml", extra=mqtt)


def test_damaged_outbox_starts_detects_and_salvages_and_a_bomb_reload_stays_small(
    tmp_path: Path,
) -> None:
    outbox = tmp_path / "state" / "outbox.sqlite"
    old = Outbox(outbox)
    for i in range(2000):
        old.add(f"old{i}", EVENTS, json.dumps({"id": f"old{i}"}).encode(), 0.0)
    old.close()
    size = outbox.stat().st_size
    with outbox.open("r+b") as file:  # one bad page in the middle
        file.seek(size // 2)
        file.write(b"\xa5" * 4096)
    broker = Broker(tmp_path / "broker")
    broker.start()
    subscriber = Subscriber(broker, [EVENTS]).start()
    notify = NotifySocket(tmp_path / "notify.sock")
    config = _config(tmp_path, broker, outbox)
    try:
        with running(tmp_path, ["run", "--config", str(config)], notify) as svc:
            notify.wait_for("READY")

            def ids() -> list[str]:
                return [json.loads(m.payload)["id"] for m in subscriber.on(EVENTS)]

            # Salvaged events arrive, then new ones from detection.
            wait(lambda: any(not i.startswith("old") for i in ids()), 120.0, svc.stderr)
            salvaged = [i for i in ids() if i.startswith("old")]
            assert 1800 <= len(salvaged) < 2000, len(salvaged)
            errors = [line for line in svc.stderr().splitlines() if " ERROR " in line]
            assert len(errors) == 1 and f"{len(salvaged)} event(s)" in errors[0], errors
            assert _metric(svc, "edgecam_outbox_recovered_total") == 1
            assert _metric(svc, "edgecam_outbox_salvaged_total") == len(salvaged)
            assert list(outbox.parent.glob("outbox.sqlite.damaged-*"))

            before = _rss_kb(svc.proc.pid)
            config.write_text(CONFIGS["alias bomb"][0])
            svc.signal(signal.SIGHUP)
            svc.wait_log("reload failed: .*alias \\*e makes the config expand", 60.0)
            grown = _rss_kb(svc.proc.pid) - before
            assert grown < 50 * 1024, f"a bomb reload grew the service by {grown // 1024} MB"
            assert svc.get_json("/healthz")[0] == 200  # still running on the old config
            svc.signal(signal.SIGTERM)
            assert svc.proc.wait(30) == 0, svc.stderr()
    finally:
        subscriber.close()
        broker.stop()
        notify.close()


def test_full_disk_runs_degraded_counts_and_recovers(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    subscriber = Subscriber(broker, [EVENTS]).start()
    notify = NotifySocket(tmp_path / "notify.sock")
    try:
        with small_filesystem(tmp_path / "small", "2m") as disk:
            filler = fill(disk)  # full before the start: it must start anyway
            config = _config(tmp_path, broker, disk / "outbox.sqlite")
            with running(tmp_path, ["run", "--config", str(config)], notify) as svc:
                notify.wait_for("READY")
                wait(lambda: len(subscriber.on(EVENTS)) >= 1, 90.0, svc.stderr)  # sent live
                code, health = svc.get_json("/healthz")
                assert code == 200 and health["status"] == "degraded", health
                assert "events cannot be stored" in str(health["reason"])
                assert "database or disk is full" in str(health["reason"])
                assert _metric(svc, "edgecam_outbox_degraded") == 1
                assert _metric(svc, "edgecam_events_unstored_total") >= 1
                assert _metric(svc, "edgecam_events_lost_total") == 0
                filler.unlink()
                wait(lambda: svc.get_json("/healthz")[1]["status"] == "ok", 60.0, svc.stderr)
                assert _metric(svc, "edgecam_outbox_degraded") == 0
                assert "writable again" in svc.stderr()
                svc.signal(signal.SIGTERM)
                assert svc.proc.wait(30) == 0, svc.stderr()
            assert _metric_free(svc.stderr())
    finally:
        subscriber.close()
        broker.stop()
        notify.close()


def _metric_free(log: str) -> bool:
    """Nothing was lost: no line says events are lost."""
    return "are lost" not in log and "lost meanwhile" not in log.replace("(0 lost meanwhile)", "")
