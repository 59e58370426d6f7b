"""The events store's file: its schema, opening it with a check, and salvaging a damaged one.

A damaged ``events.sqlite`` (a garbled header, overwritten pages) is moved aside and the rows on
its intact leaf pages are read back into a fresh file (:func:`edgecam.sqlitefile.leaf_rows`). A path
that is not edgecam's (a file where the directory should be, another program's database) is
refused, never renamed (:func:`edgecam.sqlitefile.foreign`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgecam.sqlitefile import EVENTS_ID, Value, foreign, leaf_rows, move_aside, set_application_id

DB_FILE = "events.sqlite"
TABLES = frozenset({"events"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    camera TEXT NOT NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    track_id INTEGER,
    start_ts TEXT NOT NULL,
    end_ts TEXT,
    event TEXT NOT NULL,
    end_event TEXT,
    snapshot TEXT,
    clip TEXT,
    clip_info TEXT,
    reviewed INTEGER NOT NULL DEFAULT 0,
    sub_label TEXT
);
CREATE INDEX IF NOT EXISTS events_camera_rule ON events (camera, rule, seq);
CREATE INDEX IF NOT EXISTS events_start ON events (start_ts);
"""
_COUNTS = (13, 15)
"""Values in a row: 15 now, 13 in rows written before ``reviewed`` and ``sub_label`` existed."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which occurrences to show: every field set must match (times: ISO 8601 UTC, as stored)."""

    camera: str | None = None
    rule: str | None = None
    label: str | None = None
    sub_label: str | None = None
    zone: str | None = None
    """The event's zone, or one of the zones its objects visited (end events say which)."""
    since: str | None = None
    until: str | None = None
    """Started before this (exclusive)."""
    reviewed: bool | None = None

    def sql(self) -> tuple[str, list[object]]:
        """The ``WHERE`` clause (or "") and its arguments."""
        where: list[str] = []
        args: list[object] = []
        # sub_label: the stored vote (the end event's, else the start's), not the start's alone.
        columns = (("camera", self.camera), ("rule", self.rule), ("sub_label", self.sub_label))
        for column, value in columns:
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if self.label is not None:
            where.append("json_extract(event, '$.label') = ?")
            args.append(self.label)
        if self.zone is not None:
            where.append(
                "(json_extract(event, '$.zone') = ? OR EXISTS (SELECT 1 FROM "
                "json_each(COALESCE(end_event, '{}'), '$.zones_visited') WHERE value = ?))"
            )
            args += [self.zone, self.zone]
        if self.since is not None:
            where.append("start_ts >= ?")
            args.append(self.since)
        if self.until is not None:
            where.append("start_ts < ?")
            args.append(self.until)
        if self.reviewed is not None:
            where.append("reviewed = ?")
            args.append(int(self.reviewed))
        return (f"WHERE {' AND '.join(where)}" if where else ""), args


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One occurrence as the API shows it."""

    id: str
    camera: str
    rule: str
    kind: str
    start: str
    end: str | None
    event: dict[str, Any]
    end_event: dict[str, Any] | None
    snapshot: Path | None
    clip: Path | None
    clip_info: dict[str, Any] | None
    reviewed: bool = False
    sub_label: str | None = None
    """What a classifier named the object (the end event's vote, else the start's)."""


class ForeignPathError(OSError):
    """``events.path`` holds something that is not edgecam's; it is left alone."""


@dataclass
class Salvaged:
    """What was kept of a damaged events store."""

    aside: Path
    rows: list[tuple[Value, ...]] = field(default_factory=list)


def not_an_events_store(root: Path) -> str | None:
    """Why ``root`` cannot hold the events store (None: absent, or edgecam's)."""
    if root.exists() and not root.is_dir():
        return f"{root} exists and is not a directory; events.path must name a directory"
    return foreign(root / DB_FILE, EVENTS_ID, TABLES, "an events store")


def connect(root: Path) -> tuple[sqlite3.Connection, int]:
    """Open (or create) the store in ``root``: the connection and its number of rows."""
    if (why := not_an_events_store(root)) is not None:
        raise ForeignPathError(why)
    root.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(root / DB_FILE, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        check = str(db.execute("PRAGMA quick_check(1)").fetchone()[0])
        if check != "ok":
            found = [line for line in check.splitlines() if not line.startswith("***")]
            raise sqlite3.DatabaseError(
                f"database disk image is malformed: {(found or [check])[0]}"
            )
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
        if "reviewed" not in columns:  # a store made before events could be marked reviewed
            db.execute("ALTER TABLE events ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0")
        if "sub_label" not in columns:  # a store made before classifiers: add the column
            db.execute("ALTER TABLE events ADD COLUMN sub_label TEXT")
        set_application_id(db, EVENTS_ID)
        (count,) = db.execute("SELECT COUNT(*) FROM events").fetchone()
    except BaseException:
        db.close()
        raise
    return db, int(count)


def salvage(root: Path, clock: Callable[[], float] = time.time) -> Salvaged:
    """Move the damaged ``events.sqlite`` aside and read back the rows on its intact pages."""
    aside = move_aside(root / DB_FILE, clock)
    result = Salvaged(aside)
    seen: set[int] = set()
    for rowid, values in leaf_rows(aside):
        if rowid not in seen and _is_event_row(values):
            seen.add(rowid)
            result.rows.append((rowid, *values[1:], *(0, None)[: 15 - len(values)]))
    result.rows.sort(key=lambda row: row[0])  # type: ignore[arg-type,return-value]
    return result


def _is_event_row(values: tuple[Value, ...]) -> bool:
    if len(values) not in _COUNTS or values[0] is not None:
        return False
    texts = (1, 2, 3, 4, 6, 8)  # id, camera, rule, kind, start_ts, event
    return all(isinstance(values[i], str) for i in texts) and (
        values[5] is None or isinstance(values[5], int)
    )


def insert_salvaged(db: sqlite3.Connection, rows: list[tuple[Value, ...]]) -> None:
    """Put salvaged rows (``seq`` first) into a fresh store, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT OR IGNORE INTO events (seq, id, camera, rule, kind, track_id, start_ts, end_ts, "
        "event, end_event, snapshot, clip, clip_info, reviewed, sub_label) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.execute("COMMIT")


COLUMNS = (
    "id, camera, rule, kind, start_ts, end_ts, event, end_event, snapshot, clip, clip_info, "
    "reviewed, sub_label"
)
"""The columns :func:`stored` reads, in order."""


def stored(row: tuple[Any, ...]) -> StoredEvent:
    """A row of :data:`COLUMNS` as the API shows it."""

    def parsed(text: str | None) -> dict[str, Any] | None:
        return None if text is None else dict(json.loads(text))

    return StoredEvent(
        id=row[0], camera=row[1], rule=row[2], kind=row[3], start=row[4], end=row[5],
        event=json.loads(row[6]), end_event=parsed(row[7]),
        snapshot=Path(row[8]) if row[8] else None, clip=Path(row[9]) if row[9] else None,
        clip_info=parsed(row[10]), reviewed=bool(row[11]), sub_label=row[12],
    )  # fmt: skip
