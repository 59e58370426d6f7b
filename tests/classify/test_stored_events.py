"""Stored events keep the sub label (the end's vote) and the API filters by it."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam.event import Event
from edgecam.events.api import ApiError, event_json, parse_query
from edgecam.events.media import MediaStore
from edgecam.events.store import DB_FILE, EventStore


@contextlib.contextmanager
def _store(root: Path) -> Iterator[EventStore]:
    # Closed after use: Python 3.13 warns of an SQLite connection left to the garbage collector.
    store = EventStore(root, 100, MediaStore(root, 10**9, 1e9))
    try:
        yield store
    finally:
        store.close()


def _ev(kind: str, event_id: str, track: int, sub_label: str | None = None) -> Event:
    return Event(event_id, kind, "birds", "feeder", "2026-01-01T00:00:00.000Z", 0,  # type: ignore[arg-type]
                 track_id=track, sub_label=sub_label)  # fmt: skip


def test_the_end_names_the_occurrence_and_the_filter_finds_it(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.emit(_ev("start", "s1", 1))  # not yet classified when it started
        store.emit(_ev("start", "s2", 2, "Blue Jay"))
        store.emit(_ev("end", "e1", 1, "Northern Cardinal"))
        store.emit(_ev("end", "e2", 2))  # an end without a vote keeps the start's
        found = store.query(sub_label="Northern Cardinal")
        assert [e.id for e in found] == ["s1"]
        assert event_json(found[0])["sub_label"] == "Northern Cardinal"
        assert [e.id for e in store.query(sub_label="Blue Jay")] == ["s2"]
        assert store.query(sub_label="House Sparrow") == []
        assert len(store.query()) == 2


def test_a_store_from_before_classifiers_gains_the_column(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DB_FILE)
    db.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
        "camera TEXT NOT NULL, rule TEXT NOT NULL, kind TEXT NOT NULL, track_id INTEGER, "
        "start_ts TEXT NOT NULL, end_ts TEXT, event TEXT NOT NULL, end_event TEXT, "
        "snapshot TEXT, clip TEXT, clip_info TEXT)"
    )
    db.execute(
        "INSERT INTO events (id, camera, rule, kind, start_ts, event) VALUES "
        "('old', 'feeder', 'birds', 'start', '2025-01-01T00:00:00.000Z', '{}')"
    )
    db.commit()
    db.close()
    with _store(tmp_path) as store:
        store.emit(_ev("start", "new", 1, "Blue Jay"))
        assert [e.id for e in store.query()] == ["new", "old"]
        assert [e.id for e in store.query(sub_label="Blue Jay")] == ["new"]


def test_the_query_string_takes_sub_label() -> None:
    assert parse_query({"sub_label": "Blue Jay"}).where.sub_label == "Blue Jay"
    with pytest.raises(ApiError, match="sub_label"):
        parse_query({"species": "Blue Jay"})
