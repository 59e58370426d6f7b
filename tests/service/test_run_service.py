"""``edgecam run`` under a (simulated) systemd: a real notify socket, signals, HTTP, reload."""

from __future__ import annotations

import itertools
import json
import signal
import time
from pathlib import Path

from tests.service.harness import NotifySocket, running, write_config


def _notify(tmp_path: Path) -> NotifySocket:
    return NotifySocket(tmp_path / "notify.sock")


def test_ready_watchdog_health_metrics_and_stopping(tmp_path: Path) -> None:
    notify = _notify(tmp_path)
    config = write_config(tmp_path / "edgecam.yaml")
    with running(tmp_path, ["run", "--config", str(config)], notify) as svc:
        ready = notify.wait_for("READY")
        assert ready["READY"] == "1" and "fps on cpu" in ready["STATUS"]
        assert "WATCHDOG" not in {k for m in notify.messages[:-1] for k in m}  # none before READY
        # WATCHDOG_USEC=1s: a ping every half second while frames flow, never more often.
        times = []
        for _ in range(5):
            notify.wait_for("WATCHDOG", 5.0)
            times.append(time.monotonic())
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert sum(gaps) / len(gaps) >= 0.4, gaps

        code, health = svc.get_json("/healthz")
        detector = health.pop("detector")
        assert (code, health) == (
            200, {"status": "ok", "reason": "ok", "cameras": {"plaza": "running"}}
        )  # fmt: skip
        # The known-answer check of the detector at start (edgecam/detect/selfcheck.py).
        assert isinstance(detector, dict) and detector["device"] == "cpu", detector
        assert str(detector["check"]).startswith("passed in "), detector
        assert "person 1.00, horse 0.96" in str(detector["check"]), detector
        code, kind, body = svc.get("/metrics")
        text = body.decode()
        assert code == 200 and kind.startswith("text/plain")
        for metric in (
            'edgecam_frames_captured_total{camera="plaza"}',
            'edgecam_frames_dropped_total{camera="plaza"}',
            'edgecam_camera_reconnects_total{camera="plaza"}',
            "edgecam_inference_seconds_bucket",
            'edgecam_detector_info{device="cpu",runtime="ai_edge_litert"} 1.0',
            "edgecam_events_total",
        ):
            assert metric in text, metric
        assert _value(text, "edgecam_inference_seconds_count") >= 1
        code, kind, jpeg = svc.get("/cameras/plaza/latest.jpg")
        assert (code, kind, jpeg[:2]) == (200, "image/jpeg", b"\xff\xd8")
        assert svc.get_json("/cameras/nope/latest.jpg")[0] == 404

        svc.signal(signal.SIGTERM)
        notify.wait_for("STOPPING")
        assert svc.proc.wait(30) == 0
        assert "received SIGTERM, stopping" in svc.stderr()
    notify.close()


def _value(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in metrics")


def test_watchdog_pings_stop_while_the_detector_hangs(tmp_path: Path) -> None:
    notify = _notify(tmp_path)
    config = write_config(tmp_path / "edgecam.yaml")
    flag = tmp_path / "hang"
    with running(tmp_path, ["run", "--config", str(config)], notify, hang_flag=flag) as svc:
        notify.wait_for("READY")
        notify.wait_for("WATCHDOG", 5.0)
        flag.touch()  # from now on every inference blocks
        # Pings may go on while the heartbeat (stale_after: 1s) is fresh, then stop for good.
        while notify.receive(3.0) is not None:
            pass
        code, health = svc.get_json("/healthz")
        assert code == 503 and health["status"] == "unhealthy"
        assert "no frame analysed" in str(health["reason"])
        assert svc.proc.poll() is None  # alive: systemd's watchdog is what restarts it
        flag.unlink()
        notify.wait_for("WATCHDOG", 10.0)
        assert svc.get_json("/healthz")[0] == 200
    notify.close()


def test_reload_applies_a_good_config_and_keeps_the_old_on_a_bad_one(tmp_path: Path) -> None:
    notify = _notify(tmp_path)
    config = write_config(tmp_path / "edgecam.yaml", rule="people")
    events = tmp_path / "events.jsonl"
    args = ["run", "--config", str(config), "--events", str(events)]
    with running(tmp_path, args, notify) as svc:
        notify.wait_for("READY")
        _wait_events(svc, events, lambda e: e["rule"] == "people")

        write_config(config, rule="walkers", extra="log: {level: debug}\n")
        config.write_text(config.read_text().replace("{name: svc}", "{name: svc2}"))
        svc.signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING")
        assert int(reloading["MONOTONIC_USEC"]) > 0
        notify.wait_for("READY")
        svc.wait_log("reload done: applied device, rules, log")
        got = _wait_events(svc, events, lambda e: e["rule"] == "walkers")
        assert ("end", "people") in {(e["type"], e["rule"]) for e in got}

        config.write_text(
            config.read_text().replace("min_score: 0.5", "min_score: 2") + "bogus: 1\n"
        )
        svc.signal(signal.SIGHUP)
        log = svc.wait_log("keeping the running config")
        [line] = [line for line in log.splitlines() if "reload failed" in line]
        assert "rules.0.min_score" in line and "bogus" in line
        assert svc.proc.poll() is None
        assert svc.get_json("/healthz")[0] == 200
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(30) == 0
    notify.close()


def test_a_reload_of_events_path_says_restart_and_the_restart_moves_the_store(
    tmp_path: Path,
) -> None:
    from tests.service.harness import wait

    notify = _notify(tmp_path)
    first, second = tmp_path / "store-a", tmp_path / "store-b"
    config = write_config(tmp_path / "edgecam.yaml", extra=f"events: {{path: {first}}}\n")
    args = ["run", "--config", str(config)]
    with running(tmp_path, args, notify) as svc:
        notify.wait_for("READY")
        config.write_text(config.read_text().replace(str(first), str(second)))
        svc.signal(signal.SIGHUP)
        log = svc.wait_log("reload done")
        [line] = [line for line in log.splitlines() if "reload done" in line]
        assert "applied nothing; waiting for a restart: events" in line
        assert "events changed and is NOT applied" in log and "restart edgecam" in log
        assert not second.exists()  # nothing claims a store the service does not write to
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(30) == 0
    assert (first / "events.sqlite").exists()
    notify.close()
    notify = NotifySocket(tmp_path / "notify-after-restart.sock")
    with running(tmp_path, args, notify) as svc:  # the restart applies it
        notify.wait_for("READY")
        wait((second / "events.sqlite").exists, 30.0, svc.stderr)
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(30) == 0
    notify.close()


def test_reload_starts_and_stops_cameras_while_the_others_run(tmp_path: Path) -> None:
    from tests.helpers import DATA
    from tests.service.harness import wait

    notify = _notify(tmp_path)
    config = write_config(tmp_path / "edgecam.yaml")
    events = tmp_path / "events.jsonl"
    args = ["run", "--config", str(config), "--events", str(events)]
    person = DATA / "person.jpg"
    still = f"  still: {{source: {{type: image, paths: [{person}], loop: true}}, fps: 2}}\n"

    def cameras() -> object:
        return svc.get_json("/healthz")[1]["cameras"]

    with running(tmp_path, args, notify) as svc:
        notify.wait_for("READY")
        text = config.read_text()
        config.write_text(text.replace("rules:\n", still + "rules:\n"))  # a second camera
        svc.signal(signal.SIGHUP)
        notify.wait_for("RELOADING")
        notify.wait_for("READY")
        svc.wait_log("reload: camera still started")
        _wait_events(svc, events, lambda e: e["camera"] == "still")  # its rule fires there too
        wait(
            lambda: cameras() == {"plaza": "running", "still": "running"},
            30,
            lambda: str(cameras()),
        )

        plaza = next(line for line in text.splitlines() if line.startswith("  plaza:"))
        config.write_text(text.replace(plaza + "\n", still))  # plaza removed
        svc.signal(signal.SIGHUP)
        notify.wait_for("READY")
        svc.wait_log("reload: camera plaza stopped")
        assert cameras() == {"still": "running"}
        assert "restart edgecam" not in svc.stderr()  # nothing was left for a restart
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(30) == 0
    notify.close()


def _wait_events(svc: object, path: Path, match: object) -> list[dict[str, object]]:
    from tests.service.harness import wait

    def events() -> list[dict[str, object]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    wait(lambda: any(match(e) for e in events()), 60.0, lambda: str(events()))  # type: ignore[operator]
    return events()
