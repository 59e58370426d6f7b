"""Events in SQLite, one row per occurrence (a start and its end, or a count), bounded in number.

The store is an event sink: it sees every event the pipeline emits, and the snapshot rendered
for it. It heals like the outbox: checked at open, a damaged file is moved aside and its rows
salvaged into a fresh one (:mod:`edgecam.events.storefile`); a write that fails (a full disk)
makes it *degraded* (``/healthz`` says so) and the writes wait in memory, up to a bound, until a
retry every few seconds succeeds; a deleted directory is noticed and recreated. A storage failure
never stops an event: it still goes to every other sink.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from edgecam.event import Event
from edgecam.events.media import MediaStore
from edgecam.events.storefile import (
    COLUMNS,
    DB_FILE,
    ForeignPathError,
    StoredEvent,
    connect,
    insert_salvaged,
    salvage,
    stored,
)
from edgecam.sqlitefile import is_damage

__all__ = ["DB_FILE", "EventStore", "StoredEvent"]

log = logging.getLogger(__name__)

RETRY_INTERVAL = 5.0
"""Seconds between attempts to write again while degraded."""
BACKLOG = 2000
"""Writes held in memory at most while the store cannot take them."""


class EventStore:
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
        self.root = root
        self.max_events = max_events
        self.media = media
        self.retry_interval = retry_interval
        self._clock = clock
        self.failures = 0
        """Attempts to open, write or read that failed (disk full, I/O error, damage)."""
        self.lost = 0
        """Writes neither done nor held: the memory bound was full while degraded."""
        self.recovered = 0
        """Damaged store files moved aside (and salvaged) since start."""
        self.salvaged = 0
        """Events read back from damaged store files."""
        self.degraded: str | None = None
        """Why events cannot be stored right now; None while the disk takes them."""
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._damaged = False
        self._count = 0
        self._retry_at = 0.0
        self._backlog: deque[Callable[[], None]] = deque()
        with self._lock:
            self._open()

    # -- opening, healing, degrading ------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The database file."""
        return self.root / DB_FILE

    def _open(self) -> bool:
        try:
            self._db, self._count = connect(self.root)
        except ForeignPathError as err:
            self._degrade(f"{err}; nothing there is touched", None)
            return False
        except (OSError, sqlite3.Error) as err:
            if is_damage(err):
                return self._repair(err)
            self._degrade(f"cannot open {self.path}: {_reason(err)}", err)
            return False
        self._damaged = False
        self._inode = self._stat()
        return True

    def _repair(self, damage: BaseException) -> bool:
        self._close_db()
        try:
            result = salvage(self.root, self._clock)
            self._db, self._count = connect(self.root)
            insert_salvaged(self._db, result.rows)
            (self._count,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        except (OSError, sqlite3.Error) as err:
            self._close_db()
            self._degrade(f"{self.path} is damaged ({damage}) and cannot be rebuilt: {err}", err)
            return False
        self.recovered += 1
        self.salvaged += len(result.rows)
        self._damaged = False
        self._inode = self._stat()
        log.error(
            "events store %s was damaged (%s): moved aside to %s; %d event(s) salvaged into a "
            "fresh store", self.path, damage, result.aside, len(result.rows),
        )  # fmt: skip
        return True

    def _stat(self) -> int | None:
        try:
            return self.path.stat().st_ino
        except OSError:
            return None

    def _degrade(self, why: str, err: BaseException | None) -> None:
        self._retry_at = time.monotonic() + self.retry_interval
        self.failures += 1
        if err is not None and is_damage(err):
            self._damaged = True
        log.debug("events store: %s (failure %d)", why, self.failures)
        if self.degraded is None:
            log.error(
                "events store: %s; events still go out, and wait in memory (up to %d) until the "
                "store takes them again (/healthz says degraded meanwhile)", why, BACKLOG,
            )  # fmt: skip
        self.degraded = why

    def _usable(self) -> bool:
        """Whether to try the database now: reopened if it vanished, damaged or failed."""
        if self._db is not None and not self._damaged and self._inode != self._stat():
            log.warning(
                "events store %s was deleted while running; created afresh (events since the "
                "deletion are written to it)", self.path,
            )  # fmt: skip
            self._close_db()
            return self._open()
        if self.degraded is None:
            return self._db is not None
        if time.monotonic() < self._retry_at:
            return False
        self._retry_at = time.monotonic() + self.retry_interval
        if self._db is None or self._damaged:
            self._close_db()
            return self._open()
        return True

    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def recover(self) -> bool:
        """While degraded, try again (at most every ``retry_interval``); True when it writes.

        Called now and then (the supervisor), so the store heals even when no event comes: the
        held writes, or a one-page probe, must really be written for health to say ok.
        """
        with self._lock:
            if self.degraded is None:
                return True
            if not self._usable():
                return False
            if not self._backlog:
                self._backlog.append(self._probe)
            self._drain()
            return self.degraded is None

    def _probe(self) -> None:
        assert self._db is not None
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        self._db.execute(f"PRAGMA user_version = {(int(version) + 1) % 1_000_000}")

    def degraded_reasons(self) -> list[str]:
        """Why events are not being stored right now (empty when all is well), for /healthz."""
        return [f"events store: {self.degraded}"] if self.degraded else []

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
            "event, clip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.camera, event.rule, event.type, event.track_id, event.ts, end, data,
             clip),
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
            "UPDATE events SET end_ts = ?, end_event = ?, clip = COALESCE(clip, ?) WHERE id = ?",
            (event.ts, data, clip, target),
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
                self._degrade(f"cannot write snapshot {path}: {_reason(err)}", err)
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

    def _write(self, action: Callable[[], None]) -> None:
        with self._lock:
            self._backlog.append(action)
            if len(self._backlog) > BACKLOG:
                self._backlog.popleft()
                self.lost += 1
            if self._usable():
                self._drain()

    def _drain(self) -> None:
        """Do the held writes in order; the first failure leaves the rest held (degraded)."""
        while self._backlog:
            try:
                self._backlog[0]()
            except sqlite3.Error as err:
                self._degrade(f"cannot write to {self.path}: {_reason(err)}", err)
                return
            self._backlog.popleft()
        if self.degraded is not None:
            log.warning("events store %s: writable again (%s before)", self.path, self.degraded)
            self.degraded = None

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

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._db is None or self._damaged:
                return []  # degraded, and health says why; retries are the writers' to make
            try:
                return list(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as err:
                self._degrade(f"cannot read {self.path}: {_reason(err)}", err)
                return []

    def query(
        self,
        camera: str | None = None,
        rule: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> list[StoredEvent]:
        """Occurrences, newest first, filtered by camera, rule and start time (ISO 8601 UTC)."""
        where, args = [], []
        for column, value in (("camera", camera), ("rule", rule)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("start_ts >= ?")
            args.append(since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            f"SELECT {COLUMNS} FROM events {clause} ORDER BY seq DESC LIMIT ?",
            (*args, limit),
        )
        return [stored(row) for row in rows]

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


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err)
