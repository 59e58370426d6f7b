"""``edgecam run`` with a garbled events store: set aside, a sound store keeps the run's events.

As measured before: the store was off for that run and every later one (one ERROR each start),
and ``/api/events`` fell back to memory.
"""

from __future__ import annotations

import signal
from pathlib import Path

from edgecam.event import Event
from edgecam.events.media import MediaStore
from edgecam.events.store import EventStore
from tests.reliability.tmpfs import fill, small_filesystem
from tests.service.harness import NotifySocket, running, wait, write_config


def _old_store(root: Path, count: int) -> None:
    store = EventStore(root, 1000, MediaStore(root, 10**9, 1e9))
    for i in range(count):
        store.emit(Event(f"old{i}", "count", "people", "plaza", "2026-01-01T00:00:00.000Z", 0))
    store.close()


def test_a_garbled_events_store_is_set_aside_and_the_run_keeps_its_events(tmp_path: Path) -> None:
    root = tmp_path / "events"
    _old_store(root, 40)
    with (root / "events.sqlite").open("r+b") as file:
        file.write(b"\xa5" * 100)  # the header garbled
    config = write_config(tmp_path / "edgecam.yaml", extra=f"events: {{path: {root}}}\n")
    notify = NotifySocket(tmp_path / "notify.sock")
    try:
        with running(tmp_path, ["run", "--config", str(config)], notify) as svc:
            notify.wait_for("READY")

            def ids() -> list[str]:
                code, body = svc.get_json("/api/events?limit=1000")
                assert code == 200, body
                events = body["events"]
                assert isinstance(events, list)
                return [str(e["id"]) for e in events]

            wait(lambda: any(not i.startswith("old") for i in ids()), 90.0, svc.stderr)
            assert sum(i.startswith("old") for i in ids()) == 40  # salvaged
            errors = [line for line in svc.stderr().splitlines() if " ERROR " in line]
            assert len(errors) == 1 and "40 event(s) salvaged" in errors[0], errors
            assert list(root.glob("events.sqlite.damaged-*"))
            assert svc.get_json("/healthz")[1]["status"] == "ok"
            svc.signal(signal.SIGTERM)
            assert svc.proc.wait(30) == 0, svc.stderr()
        new = [i for i in ids_after(root) if not i.startswith("old")]
        assert new, "the run's events are in the sound store"
    finally:
        notify.close()


def ids_after(root: Path) -> list[str]:
    """The ids in the store on disk, after the run."""
    store = EventStore(root, 1000, MediaStore(root, 10**9, 1e9))
    try:
        assert store.recovered == 0  # sound now
        return [e.id for e in store.query(limit=1000)]
    finally:
        store.close()


def test_an_events_store_on_a_full_disk_is_degraded_until_it_writes_again(tmp_path: Path) -> None:
    """As measured before: off for the run after space was freed, 0 failures, health ok."""
    notify = NotifySocket(tmp_path / "notify.sock")
    try:
        with small_filesystem(tmp_path / "small", "2m") as disk:
            filler = fill(disk)
            extra = f"events: {{path: {disk / 'events'}}}\n"
            config = write_config(tmp_path / "edgecam.yaml", extra=extra)
            with running(tmp_path, ["run", "--config", str(config)], notify) as svc:
                notify.wait_for("READY")
                code, health = svc.get_json("/healthz")
                assert code == 200 and health["status"] == "degraded", health
                assert "events store" in str(health["reason"]), health
                assert svc.get_json("/api/events")[0] == 200
                filler.unlink()

                def stored() -> int:
                    body = svc.get_json("/api/events")[1]["events"]
                    assert isinstance(body, list)
                    return len(body)

                wait(lambda: stored() > 0, 90.0, svc.stderr)  # the held events, written
                wait(lambda: svc.get_json("/healthz")[1]["status"] == "ok", 30.0, svc.stderr)
                assert svc.stderr().count("writable again") == 1
                svc.signal(signal.SIGTERM)
                assert svc.proc.wait(30) == 0, svc.stderr()
    finally:
        notify.close()
