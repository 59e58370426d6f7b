"""The events store: one row per occurrence, ends matched to starts, bounded with its files."""

from __future__ import annotations

from pathlib import Path

from edgecam.event import Event
from edgecam.events.media import MediaStore
from edgecam.events.store import EventStore


def _store(root: Path, max_events: int = 100) -> EventStore:
    return EventStore(root, max_events, MediaStore(root, 10**9, 1e9))


def _ev(
    kind: str, event_id: str, track: int | None = None, ts: str = "2026-01-01T00:00:00.000Z"
) -> Event:
    return Event(event_id, kind, "dwell", "cam", ts, 0, track_id=track)  # type: ignore[arg-type]


def test_ends_close_the_start_of_their_track(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.emit(_ev("start", "s1", track=1))
    store.emit(_ev("start", "s2", track=2))
    store.emit(_ev("update", "u", track=2))
    store.emit(_ev("end", "e1", track=1, ts="2026-01-01T00:00:09.000Z"))
    one, two = store.get("s1"), store.get("s2")
    assert one is not None and one.end == "2026-01-01T00:00:09.000Z"
    assert two is not None and two.end is None
    assert [e.id for e in store.query()] == ["s2", "s1"]  # updates are not occurrences


def test_the_store_keeps_max_events_and_deletes_their_files(tmp_path: Path) -> None:
    store = _store(tmp_path, max_events=10)
    for i in range(250):
        store.emit(_ev("count", f"c{i}", track=i))
        store.snapshot("cam", "dwell", b"\xff\xd8")
    kept = store.query(limit=1000)
    assert len(kept) == 10  # held at the cap after every insert
    assert kept[0].id == "c249"
    assert len(list(tmp_path.glob("cam/*.jpg"))) == len(kept)


def test_reviewed_marks_survive_a_reopen_and_old_stores_gain_the_column(tmp_path: Path) -> None:
    import sqlite3

    old = sqlite3.connect(tmp_path / "events.sqlite")  # a store from before reviewed marks
    old.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
        "camera TEXT NOT NULL, rule TEXT NOT NULL, kind TEXT NOT NULL, track_id INTEGER, "
        "start_ts TEXT NOT NULL, end_ts TEXT, event TEXT NOT NULL, end_event TEXT, "
        "snapshot TEXT, clip TEXT, clip_info TEXT);"
        "INSERT INTO events (id, camera, rule, kind, start_ts, event) VALUES "
        "('old', 'porch', 'people', 'start', '2026-12-01T10:00:00.000Z', '{}');"
    )
    old.close()
    store = _store(tmp_path)
    assert store.get("old") is not None and store.get("old").reviewed is False  # type: ignore[union-attr]
    assert store.mark_reviewed("old") and not store.mark_reviewed("nope")
    store.close()
    again = _store(tmp_path)
    assert again.get("old").reviewed is True  # type: ignore[union-attr]
    assert again.unreviewed() == {}
    again.close()
