"""Events in SQLite, one row per occurrence (a start and its end, or a count), bounded in number.

The store is an event sink: it sees every event the pipeline emits, and the snapshot rendered
for it. A storage failure (a full disk) never stops an event: it is logged once and counted, and
the event still goes to every other sink.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecam.event import Event
from edgecam.events.media import MediaStore

log = logging.getLogger(__name__)

DB_FILE = "events.sqlite"

_SCHEMA = """
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


class EventStore:
    """Occurrences in SQLite (WAL), their snapshot files in a :class:`MediaStore`."""

    def __init__(self, root: Path, max_events: int, media: MediaStore) -> None:
        self.root = root
        self.max_events = max_events
        self.media = media
        self.failures = 0
        """Writes that failed (disk full, I/O error) since start."""
        self._warned = False
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(root / DB_FILE, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
            if "reviewed" not in columns:  # a store made before events could be marked reviewed
                self._db.execute(
                    "ALTER TABLE events ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0"
                )
            if "sub_label" not in columns:  # a store made before classifiers: add the column
                self._db.execute("ALTER TABLE events ADD COLUMN sub_label TEXT")
        except BaseException:
            self._db.close()  # the caller runs on without the store: leave nothing open
            raise
        self._seq = 0

    # -- the sink side (pipeline and snapshot threads) ------------------------------------------

    def emit(self, event: Event) -> None:
        """Store a start or count as a new occurrence; an end closes its start's."""
        if event.type == "update":
            return
        data = json.dumps(event.to_json())
        clip = event.clip.get("path") if event.clip else None
        if event.type == "end":
            self._write(self._end, event, data, clip)
        else:
            self._write(self._insert, event, data, clip)

    def _insert(self, event: Event, data: str, clip: object) -> None:
        end = event.ts if event.type == "count" else None
        self._db.execute(
            "INSERT OR IGNORE INTO events (id, camera, rule, kind, track_id, start_ts, end_ts, "
            "event, clip, sub_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.camera, event.rule, event.type, event.track_id, event.ts, end, data,
             clip, event.sub_label),
        )  # fmt: skip
        self._seq += 1
        if self._seq % 100 == 1:
            self._trim()

    def _end(self, event: Event, data: str, clip: object) -> None:
        target = event.start_id or (event.clip.get("id") if event.clip else None)
        if target is None:
            row = self._db.execute(
                "SELECT id FROM events WHERE camera = ? AND rule = ? AND kind = 'start' AND "
                "end_ts IS NULL ORDER BY (track_id IS ?) DESC, seq DESC LIMIT 1",
                (event.camera, event.rule, event.track_id),
            ).fetchone()
            if row is None:
                return
            target = row[0]
        self._db.execute(
            "UPDATE events SET end_ts = ?, end_event = ?, clip = COALESCE(clip, ?), "
            "sub_label = COALESCE(?, sub_label) WHERE id = ?",
            (event.ts, data, clip, event.sub_label, target),
        )

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Keep the JPEG as the latest occurrence's snapshot of ``rule`` on ``camera``."""
        row = self._read(
            "SELECT id FROM events WHERE camera = ? AND rule = ? ORDER BY seq DESC LIMIT 1",
            (camera, rule),
        )
        if not row:
            return
        event_id = row[0][0]
        path = self.root / camera / f"{event_id}.jpg"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(jpeg)
        except OSError as err:
            path.unlink(missing_ok=True)
            self._failed(f"cannot write snapshot {path}: {err}")
            return
        self.media.add(path)
        self._write(lambda *_: self._set(event_id, "snapshot", str(path)), None, "", None)

    def clip_written(self, event_id: str, path: Path | None, info: Mapping[str, object]) -> None:
        """Record how an occurrence's clip came out (the clip writer's thread)."""
        payload = json.dumps(dict(info))

        def update(*_: object) -> None:
            self._db.execute(
                "UPDATE events SET clip = ?, clip_info = ? WHERE id = ?",
                (None if path is None else str(path), payload, event_id),
            )

        self._write(update, None, "", None)

    def stats(self, stats: Mapping[str, object]) -> None:
        """Stats are not stored."""

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _set(self, event_id: str, column: str, value: object) -> None:
        self._db.execute(f"UPDATE events SET {column} = ? WHERE id = ?", (value, event_id))

    def _write(self, action: Any, event: Event | None, data: str, clip: object) -> None:
        try:
            with self._lock:
                action(event, data, clip)
        except sqlite3.Error as err:
            self._failed(f"events store {self.root / DB_FILE}: {err}")

    def _failed(self, message: str) -> None:
        self.failures += 1
        if not self._warned:
            self._warned = True
            log.warning(
                "%s; events are still delivered, but not kept for the API (logged once; "
                "counted in edgecam_events_store_failures)",
                message,
            )

    def _trim(self) -> None:
        """Delete the oldest occurrences past ``max_events``, with their files."""
        rows = self._db.execute(
            "SELECT seq, snapshot, clip FROM events ORDER BY seq DESC LIMIT -1 OFFSET ?",
            (self.max_events,),
        ).fetchall()
        if not rows:
            return
        self._db.execute("DELETE FROM events WHERE seq <= ?", (rows[0][0],))
        for _, snapshot, clip in rows:
            for name in (snapshot, clip):
                if name:
                    Path(name).unlink(missing_ok=True)

    # -- the API side (web server threads) -----------------------------------------------------

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def query(
        self,
        camera: str | None = None,
        rule: str | None = None,
        since: str | None = None,
        limit: int = 50,
        sub_label: str | None = None,
    ) -> list[StoredEvent]:
        """Occurrences, newest first, filtered by camera, rule, start time (ISO 8601 UTC) and
        sub label."""
        where = EventFilter(camera=camera, rule=rule, since=since, sub_label=sub_label)
        return self.find(where, limit)

    def find(self, where: EventFilter, limit: int = 50, offset: int = 0) -> list[StoredEvent]:
        """One page of the occurrences that match ``where``, newest first."""
        clause, args = where.sql()
        rows = self._read(
            f"SELECT {_COLUMNS} FROM events {clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [_stored(row) for row in rows]

    def count(self, where: EventFilter) -> int:
        """How many occurrences match ``where``."""
        clause, args = where.sql()
        return int(self._read(f"SELECT COUNT(*) FROM events {clause}", tuple(args))[0][0])

    def starts(self, where: EventFilter) -> list[str]:
        """The start times (ISO 8601 UTC) of every occurrence that matches ``where``."""
        clause, args = where.sql()
        return [r[0] for r in self._read(f"SELECT start_ts FROM events {clause}", tuple(args))]

    def unreviewed(self) -> dict[str, int]:
        """Per camera, how many occurrences nobody has marked reviewed."""
        rows = self._read(
            "SELECT camera, COUNT(*) FROM events WHERE reviewed = 0 GROUP BY camera", ()
        )
        return {str(camera): int(n) for camera, n in rows}

    def mark_reviewed(self, event_id: str, reviewed: bool = True) -> bool:
        """Mark one occurrence reviewed (or not); False if there is no such occurrence."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE events SET reviewed = ? WHERE id = ?", (int(reviewed), event_id)
            )
        return cursor.rowcount > 0

    def get(self, event_id: str) -> StoredEvent | None:
        """One occurrence by the id of its start (or count) event."""
        rows = self._read(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (event_id,))
        return _stored(rows[0]) if rows else None

    def forget_file(self, path: Path) -> None:
        """A clip or snapshot was deleted by the caps: the occurrence keeps no dangling path."""
        column = "clip" if path.suffix == ".mp4" else "snapshot"
        self._write(
            lambda *_: self._db.execute(
                f"UPDATE events SET {column} = NULL WHERE {column} = ?", (str(path),)
            ),
            None, "", None,
        )  # fmt: skip


_COLUMNS = (
    "id, camera, rule, kind, start_ts, end_ts, event, end_event, snapshot, clip, clip_info, "
    "reviewed, sub_label"
)


def _stored(row: tuple[Any, ...]) -> StoredEvent:
    def parsed(text: str | None) -> dict[str, Any] | None:
        return None if text is None else dict(json.loads(text))

    return StoredEvent(
        id=row[0], camera=row[1], rule=row[2], kind=row[3], start=row[4], end=row[5],
        event=json.loads(row[6]), end_event=parsed(row[7]),
        snapshot=Path(row[8]) if row[8] else None, clip=Path(row[9]) if row[9] else None,
        clip_info=parsed(row[10]), reviewed=bool(row[11]), sub_label=row[12],
    )  # fmt: skip
