"""Events in SQLite, one row per occurrence (a start and its end, or a count), bounded in number.

The store is an event sink: it sees every event the pipeline emits, and the snapshot rendered
for it. It heals like the outbox: checked at open, a damaged file is moved aside and its rows
salvaged into a fresh one (:mod:`edgecam.events.storefile`); a write that fails (a full disk)
makes it *degraded* (``/healthz`` says so) and the writes wait in memory, up to a bound, until a
retry every few seconds succeeds; a deleted directory is noticed and recreated. A storage failure
never stops an event: it still goes to every other sink.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from edgecam.event import Event
from edgecam.events.healing import RETRY_INTERVAL, HealingStore, reason
from edgecam.events.media import MediaStore
from edgecam.events.storefile import (
    COLUMNS,
    DB_FILE,
    EventFilter,
    StoredEvent,
    stored,
)

__all__ = ["DB_FILE", "EventFilter", "EventStore", "StoredEvent"]

log = logging.getLogger(__name__)


class EventStore(HealingStore):
    """Occurrences in SQLite (WAL), their snapshot files in a :class:`MediaStore`."""

    def __init__(
        self,
        root: Path,
        max_events: int,
        media: MediaStore,
        *,
        retry_interval: float = RETRY_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_events = max_events
        self.media = media
        super().__init__(root, retry_interval=retry_interval, clock=clock)

    # -- the sink side (pipeline and snapshot threads) ------------------------------------------

    def emit(self, event: Event) -> None:
        """Store a start or count as a new occurrence; an end closes its start's."""
        if event.type == "update":
            return
        data = json.dumps(event.to_json())
        clip = event.clip.get("path") if event.clip else None
        if event.type == "end":
            self._write(partial(self._end, event, data, clip))
        else:
            self._write(partial(self._insert, event, data, clip))

    def _insert(self, event: Event, data: str, clip: object) -> None:
        assert self._db is not None
        end = event.ts if event.type == "count" else None
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO events (id, camera, rule, kind, track_id, start_ts, end_ts, "
            "event, clip, sub_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.camera, event.rule, event.type, event.track_id, event.ts, end, data,
             clip, event.sub_label),
        )  # fmt: skip
        self._count += max(0, cursor.rowcount)
        if self._count > self.max_events:
            self._trim()

    def _end(self, event: Event, data: str, clip: object) -> None:
        assert self._db is not None
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
            with self._lock:
                self._degrade(f"cannot write snapshot {path}: {reason(err)}", err)
            return
        self.media.add(path)
        self._write(partial(self._set, event_id, "snapshot", str(path)))

    def clip_written(self, event_id: str, path: Path | None, info: Mapping[str, object]) -> None:
        """Record how an occurrence's clip came out (the clip writer's thread)."""
        payload = json.dumps(dict(info))
        clip = None if path is None else str(path)
        self._write(partial(self._set_clip, event_id, clip, payload))

    def _set_clip(self, event_id: str, clip: str | None, payload: str) -> None:
        assert self._db is not None
        self._db.execute(
            "UPDATE events SET clip = ?, clip_info = ? WHERE id = ?", (clip, payload, event_id)
        )

    def stats(self, stats: Mapping[str, object]) -> None:
        """Stats are not stored."""

    def close(self) -> None:
        """Write what memory holds if the store works again, then close the database."""
        with self._lock:
            if self._backlog:
                self._retry_at = 0.0
                if self._usable():
                    self._drain()
            if self._backlog:
                log.error(
                    "events store: %d write(s) held in memory could not be stored (%s); those "
                    "events went out but are not in /api/events", len(self._backlog), self.degraded,
                )  # fmt: skip
            self._close_db()

    def _set(self, event_id: str, column: str, value: object) -> None:
        assert self._db is not None
        self._db.execute(f"UPDATE events SET {column} = ? WHERE id = ?", (value, event_id))

    def _trim(self) -> None:
        """Delete the oldest occurrences past ``max_events``, with their files."""
        assert self._db is not None
        rows = self._db.execute(
            "SELECT seq, snapshot, clip FROM events ORDER BY seq DESC LIMIT -1 OFFSET ?",
            (self.max_events,),
        ).fetchall()
        if not rows:
            self._count = min(self._count, self.max_events)
            return
        self._db.execute("DELETE FROM events WHERE seq <= ?", (rows[0][0],))
        self._count -= len(rows)
        for _, snapshot, clip in rows:
            for name in (snapshot, clip):
                if name:
                    Path(name).unlink(missing_ok=True)

    # -- the API side (web server threads) -----------------------------------------------------

    def query(
        self,
        camera: str | None = None,
        rule: str | None = None,
        since: str | None = None,
        limit: int = 50,
        sub_label: str | None = None,
    ) -> list[StoredEvent]:
        """Occurrences, newest first, by camera, rule, start time (ISO 8601 UTC), sub label."""
        return self.find(
            EventFilter(camera=camera, rule=rule, since=since, sub_label=sub_label), limit
        )

    def find(self, where: EventFilter, limit: int = 50, offset: int = 0) -> list[StoredEvent]:
        """One page of the occurrences that match ``where``, newest first."""
        clause, args = where.sql()
        rows = self._read(
            f"SELECT {COLUMNS} FROM events {clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [stored(row) for row in rows]

    def count(self, where: EventFilter) -> int:
        """How many occurrences match ``where`` (0 while the store cannot be read)."""
        clause, args = where.sql()
        rows = self._read(f"SELECT COUNT(*) FROM events {clause}", tuple(args))
        return int(rows[0][0]) if rows else 0

    def starts(self, where: EventFilter) -> list[str]:
        """The start times (ISO 8601 UTC) of every occurrence that matches ``where``."""
        clause, args = where.sql()
        return [r[0] for r in self._read(f"SELECT start_ts FROM events {clause}", tuple(args))]

    def unreviewed(self) -> dict[str, int]:
        """Per camera, how many occurrences nobody has marked reviewed."""
        sql = "SELECT camera, COUNT(*) FROM events WHERE reviewed = 0 GROUP BY camera"
        return {str(camera): int(n) for camera, n in self._read(sql, ())}

    def mark_reviewed(self, event_id: str, reviewed: bool = True) -> bool:
        """Mark one occurrence reviewed (or not); False if there is none (or no store now)."""
        with self._lock:
            if self._db is None or self._damaged:
                return False
            try:
                cursor = self._db.execute(
                    "UPDATE events SET reviewed = ? WHERE id = ?", (int(reviewed), event_id)
                )
            except sqlite3.Error as err:
                self._degrade(f"cannot write to {self.path}: {reason(err)}", err)
                return False
        return cursor.rowcount > 0

    def get(self, event_id: str) -> StoredEvent | None:
        """One occurrence by the id of its start (or count) event."""
        rows = self._read(f"SELECT {COLUMNS} FROM events WHERE id = ?", (event_id,))
        return stored(rows[0]) if rows else None

    def forget_file(self, path: Path) -> None:
        """A clip or snapshot was deleted by the caps: the occurrence keeps no dangling path."""
        column = "clip" if path.suffix == ".mp4" else "snapshot"
        self._write(partial(self._forget, column, str(path)))

    def _forget(self, column: str, path: str) -> None:
        assert self._db is not None
        self._db.execute(f"UPDATE events SET {column} = NULL WHERE {column} = ?", (path,))
