"""The events store's file kept working: opened with a check, healed, retried, recreated.

:class:`HealingStore` owns the connection and its state (a damaged file set aside and salvaged,
a failing disk *degraded* with writes held in memory and retried, a deleted directory noticed and
recreated); :class:`~edgecam.events.store.EventStore` adds what an event is.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgecam.events.storefile import DB_FILE, ForeignPathError, connect, insert_salvaged, salvage
from edgecam.sqlitefile import is_damage

log = logging.getLogger("edgecam.events.store")

RETRY_INTERVAL = 5.0
"""Seconds between attempts to write again while degraded."""
BACKLOG = 2000
"""Writes held in memory at most while the store cannot take them."""


class HealingStore:
    """An SQLite file in ``root`` that heals, degrades and retries; subclasses add the rows."""

    def __init__(
        self,
        root: Path,
        *,
        retry_interval: float = RETRY_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
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
            self._degrade(f"cannot open {self.path}: {reason(err)}", err)
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
                self._degrade(f"cannot write to {self.path}: {reason(err)}", err)
                return
            self._backlog.popleft()
        if self.degraded is not None:
            log.warning("events store %s: writable again (%s before)", self.path, self.degraded)
            self.degraded = None

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._db is None or self._damaged:
                return []  # degraded, and health says why; retries are the writers' to make
            try:
                return list(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as err:
                self._degrade(f"cannot read {self.path}: {reason(err)}", err)
                return []


def reason(err: BaseException) -> str:
    """The short reason of an OS or SQLite error, for a log line."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err)
