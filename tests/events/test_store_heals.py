"""The events store heals like the outbox: damage set aside and salvaged, failures degrade and
retry, a deleted directory is recreated, and a path that is not its own is never touched."""

from __future__ import annotations

import logging
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from edgecam.event import Event
from edgecam.events.media import MediaStore
from edgecam.events.store import EventStore
from tests.reliability.tmpfs import fill, small_filesystem

_GARBAGE = random.Random(22)


def _store(root: Path, max_events: int = 1000, retry: float = 0.0) -> EventStore:
    return EventStore(root, max_events, MediaStore(root, 10**9, 1e9), retry_interval=retry)


def _ev(event_id: str, kind: str = "count") -> Event:
    return Event(event_id, kind, "r", "cam", "2026-01-01T00:00:00.000Z", 0, track_id=1)  # type: ignore[arg-type]


def _filled(root: Path, count: int = 300) -> None:
    store = _store(root)
    for i in range(count):
        store.emit(_ev(f"e{i}"))
    store.close()


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _garble_header(path: Path) -> None:
    with path.open("r+b") as file:
        file.write(_GARBAGE.randbytes(100))


def _garble_pages(path: Path) -> None:
    db = sqlite3.connect(path)
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
    db.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * 4096)
        file.write(_GARBAGE.randbytes(4096))  # the table's root: every seek through it fails


@pytest.mark.parametrize("damage", [_garble_header, _garble_pages])
def test_a_damaged_store_is_set_aside_and_salvaged(
    tmp_path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    _filled(tmp_path)
    damage(tmp_path / "events.sqlite")  # type: ignore[operator]
    with caplog.at_level(logging.INFO):
        store = _store(tmp_path)
    (line,) = _errors(caplog)
    assert "moved aside to" in line and "300 event(s) salvaged" in line, line
    assert list(tmp_path.glob("events.sqlite.damaged-*")), "kept for inspection"
    store.emit(_ev("new"))
    assert [e.id for e in store.query(limit=2)] == ["new", "e299"]
    assert store.degraded is None and store.recovered == 1
    store.close()
    again = _store(tmp_path)  # sound next time
    assert again.recovered == 0 and len(again.query(limit=1000)) == 301
    again.close()


def test_a_deleted_directory_is_noticed_and_recreated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "events"
    store = _store(root)
    store.emit(_ev("before"))
    shutil.rmtree(root)
    with caplog.at_level(logging.INFO):
        store.emit(_ev("after"))
    assert any("deleted while running" in r.getMessage() for r in caplog.records)
    assert (root / "events.sqlite").is_file()
    store.close()
    again = _store(root)
    assert [e.id for e in again.query()] == ["after"]  # written to the new file
    again.close()


def test_max_events_is_held_after_every_insert(tmp_path: Path) -> None:
    store = _store(tmp_path, max_events=10)
    for i in range(140):
        store.emit(_ev(f"e{i}"))
        assert len(store.query(limit=1000)) <= 10
    store.close()


@pytest.mark.parametrize("what", ["file", "other database"])
def test_a_path_that_is_not_the_store_is_left_alone(
    tmp_path: Path, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    if what == "file":
        root = tmp_path / "notes.txt"
        root.write_text("the user's notes")
    else:
        root = tmp_path
        db = sqlite3.connect(root / "events.sqlite")
        db.execute("CREATE TABLE calendar (day TEXT)")
        db.close()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with caplog.at_level(logging.INFO):
        store = _store(root)
        store.emit(_ev("e"))
    assert store.degraded is not None and len(_errors(caplog)) == 1
    store.close()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_a_full_disk_degrades_and_the_held_events_land_once_space_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_filesystem(tmp_path / "small", "2m") as disk:
        filler = fill(disk)
        with caplog.at_level(logging.INFO):
            store = _store(disk / "events")
            for i in range(20):
                store.emit(_ev(f"e{i}"))
            assert store.degraded is not None and store.failures >= 1
            filler.unlink()
            store.emit(_ev("e20"))  # the retry is this real write
        assert store.degraded is None, store.degraded
        assert len(store.query(limit=100)) == 21 and store.lost == 0
        assert sum("writable again" in r.getMessage() for r in caplog.records) == 1
        assert len(_errors(caplog)) == 1
        store.close()


def test_pages_overwritten_while_running_degrade_then_heal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path)
    for i in range(300):
        store.emit(_ev(f"e{i}"))
    checkpoint = sqlite3.connect(tmp_path / "events.sqlite")
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    _garble_pages(tmp_path / "events.sqlite")
    other = sqlite3.connect(tmp_path / "events.sqlite")  # a write elsewhere: caches are dropped
    other.execute("PRAGMA user_version = 7")
    other.close()
    with caplog.at_level(logging.INFO):
        assert store.query() == []  # no 500: an empty answer, and health says why
        assert store.degraded is not None and "malformed" in store.degraded
        store.emit(_ev("new"))  # the retry: set aside, salvaged, then written
    assert store.degraded is None and store.recovered == 1
    assert len(store.query(limit=1000)) == 301
    assert sum("writable again" in r.getMessage() for r in caplog.records) == 1
    store.close()
