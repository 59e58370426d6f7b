"""The durable outbox: events wait in SQLite until the broker has acknowledged them.

It never stops the service. A damaged file is moved aside and salvaged into a fresh one
(:mod:`edgecam.publish.salvage`), if it is edgecam's own (:mod:`edgecam.publish.outbox_db`;
anything else is left alone); when nothing can be written (a full disk, an unwritable or
vanished directory) the outbox is *degraded*: events are held in memory, up to a bound, and sent
from there while the broker is up; each that is neither kept nor sent is counted; every few
seconds the disk is tried again, and what memory holds moves back to it once it works.

WAL with ``synchronous=NORMAL`` by default: a commit is in the WAL (the OS page cache) when
``add`` returns, so a crash or SIGKILL of edgecam loses nothing, and there is no fsync per event
(an fsync on an SD card costs milliseconds and wears the card). Only a power cut can lose the last
commits; ``synchronous=FULL`` (``mqtt.outbox.synchronous: full``) closes that gap too.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from edgecam.publish.outbox_db import (
    ForeignFileError,
    PendingMessage,
    advice,
    connect,
    default_outbox_path,
    reason,
)
from edgecam.publish.salvage import Row, salvage
from edgecam.sqlitefile import is_damage

__all__ = ["MEMORY_LIMIT", "RETRY_INTERVAL", "Outbox", "PendingMessage", "default_outbox_path"]

log = logging.getLogger(__name__)

MEMORY_LIMIT = 10_000
"""Events held in memory at most while the disk cannot take them (about 5 MB)."""
RETRY_INTERVAL = 5.0
"""Seconds between attempts to write to the disk again while degraded."""


class Outbox:
    """A bounded FIFO of pending messages in SQLite, safe to use from several threads."""

    def __init__(
        self,
        path: Path,
        max_events: int = 100_000,
        synchronous: Literal["normal", "full"] = "normal",
        *,
        memory_limit: int = MEMORY_LIMIT,
        retry_interval: float = RETRY_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_events = max_events
        self.memory_limit = memory_limit
        self.retry_interval = retry_interval
        self._synchronous = synchronous
        self._clock = clock
        self.dropped = 0
        """Messages dropped (oldest first) because the outbox was full, since it was opened."""
        self.unstored = 0
        """Messages that could not be written to the disk and were held in memory instead."""
        self.lost = 0
        """Messages neither kept nor sent: memory was full, or still held in memory at close."""
        self.recovered = 0
        """Damaged outbox files moved aside (and salvaged) since it was opened."""
        self.salvaged = 0
        """Messages read back from damaged outbox files."""
        self.degraded: str | None = None
        """Why messages cannot be stored right now; None while the disk takes them."""
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._damaged = False
        self._disk_depth = 0
        self._next_seq = 1
        self._memory: dict[int, PendingMessage] = {}
        """Messages the disk could not take, by seq (ascending: seqs only grow)."""
        self._retry_at = 0.0
        self._open()
        if self._disk_depth:
            log.info("outbox %s: %d event(s) pending from an earlier run", path, self._disk_depth)

    # --- opening, repairing, degrading ---

    def _open(self) -> bool:
        """Open (or create) the database; a damaged one is salvaged; False if degraded."""
        try:
            self._db, self._disk_depth, top = connect(self.path, self._synchronous)
        except ForeignFileError as err:
            # Never renamed: it is the user's (a directory, another program's file).
            self._degrade(f"{reason(err)}; mqtt.outbox.path must name edgecam's own file", err=err)
            return False
        except (OSError, sqlite3.Error) as err:
            if is_damage(err):
                return self._repair(err)
            self._degrade(f"cannot open {self.path}: {reason(err)}", err=err)
            return False
        self._damaged = False
        self._next_seq = max(self._next_seq, top + 1)
        return True

    def _repair(self, damage: BaseException) -> bool:
        """Move the damaged file aside, salvage its rows into a fresh one (or memory)."""
        self._close_db()
        try:
            result = salvage(self.path, self._clock)
        except OSError as err:
            self._degrade(
                f"{self.path} is damaged ({reason(damage)}) and cannot be moved aside "
                f"({reason(err)})",
                hint=True,
            )
            return False
        self.recovered += 1
        self.salvaged += len(result.rows)
        self._next_seq = max([self._next_seq, *(row[0] + 1 for row in result.rows)])
        stored = self._open_fresh(result.rows, result.retained)
        log.error(
            "outbox %s was damaged (%s): moved aside to %s; %d event(s) and %d retained "
            "topic(s) salvaged into %s%s",
            self.path, reason(damage), result.aside or "nowhere (it was gone)",
            len(result.rows), len(result.retained),
            "a fresh outbox" if stored else "memory (the fresh outbox cannot be written)",
            f", {result.unreadable} unreadable stretch(es) lost" if result.unreadable else "",
        )  # fmt: skip
        return stored

    def _open_fresh(self, rows: list[Row], retained: list[str]) -> bool:
        try:
            self._db, self._disk_depth, top = connect(self.path, self._synchronous)
            self._insert_rows(rows)
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO retained (topic) VALUES (?)", [(t,) for t in retained]
            )
            self._db.execute("COMMIT")
        except (OSError, sqlite3.Error) as err:
            self._rollback()
            for row in rows:
                self._memory.setdefault(row[0], PendingMessage(*row))
            self._degrade(f"cannot write a fresh outbox at {self.path}: {reason(err)}", err=err)
            return False
        self._damaged = False
        self._next_seq = max(self._next_seq, top + 1)
        return True

    def _insert_rows(self, rows: Iterable[Row]) -> None:
        assert self._db is not None
        rows = list(rows)
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "INSERT OR IGNORE INTO pending (seq, event_id, topic, payload, created) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        self._db.execute("COMMIT")
        self._disk_depth += len(rows)

    def _degrade(self, reason: str, *, hint: bool = False, err: Exception | None = None) -> None:
        self._retry_at = time.monotonic() + self.retry_interval
        if err is not None and is_damage(err):
            self._damaged = True
        if self.degraded is None:
            log.error(
                "outbox: %s%s; events are held in memory (up to %d) and sent while the broker "
                "is up, until the disk takes them again (/healthz says degraded meanwhile)",
                reason,
                advice(err) if hint or err is not None else "",
                self.memory_limit,
            )
        self.degraded = reason

    def recover(self) -> bool:
        """While degraded, try the disk again (at most every ``retry_interval``); True if fine."""
        with self._lock:
            if self.degraded is None:
                return True
            if time.monotonic() < self._retry_at:
                return False
            return self._retry()

    def _retry(self) -> bool:
        self._retry_at = time.monotonic() + self.retry_interval
        if (self._db is None or self._damaged) and not self._reopen():
            return False
        held = [(m.seq, m.event_id, m.topic, m.payload, m.created) for m in self._memory.values()]
        try:
            self._insert_rows(held)
            if not held:
                self._probe()
        except sqlite3.Error as err:
            self._rollback()
            self._degrade(f"cannot store events in {self.path}: {reason(err)}", err=err)
            return False
        self._memory.clear()
        log.warning(
            "outbox %s: writable again; %d event(s) moved from memory to disk (%d lost meanwhile)",
            self.path, len(held), self.lost,
        )  # fmt: skip
        self.degraded = None
        return True

    def _probe(self) -> None:
        """A real write (page 1 into the WAL): "writable again" only when the disk took it."""
        assert self._db is not None
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        self._db.execute(f"PRAGMA user_version = {(int(version) + 1) % 1_000_000}")

    def _reopen(self) -> bool:
        self._close_db()
        return self._open()

    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    # --- the queue ---

    @property
    def depth(self) -> int:
        """Messages waiting for an acknowledgement (on disk and in memory)."""
        return self._disk_depth + len(self._memory)

    def add(self, event_id: str, topic: str, payload: bytes, created: float) -> int:
        """Store one message and return its ``seq``; drop the oldest when full.

        Never raises: when the disk cannot take it the message is held in memory (degraded).
        """
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            if self.degraded is not None:
                # Held first, so a retry's write is this message: the state changes only on a
                # write that really happened, never on an empty transaction.
                self._hold(PendingMessage(seq, event_id, topic, payload, created))
                if time.monotonic() >= self._retry_at:
                    self._retry()
                return seq
            if self._db is not None:
                try:
                    self._store(seq, event_id, topic, payload, created)
                    return seq
                except sqlite3.Error as err:
                    self._rollback()
                    self._degrade(f"cannot store events in {self.path}: {reason(err)}", err=err)
            self._hold(PendingMessage(seq, event_id, topic, payload, created))
            return seq

    def _store(self, seq: int, event_id: str, topic: str, payload: bytes, created: float) -> None:
        assert self._db is not None
        self._db.execute("BEGIN IMMEDIATE")
        over = self._disk_depth + 1 - self.max_events
        dropped = self._drop_oldest(over) if over > 0 else 0
        self._db.execute(
            "INSERT INTO pending (seq, event_id, topic, payload, created) VALUES (?, ?, ?, ?, ?)",
            (seq, event_id, topic, payload, created),
        )
        self._db.execute("COMMIT")
        # Counted once committed: a rolled-back drop dropped nothing.
        self._disk_depth += 1 - dropped
        if dropped:
            self.dropped += dropped
            log.warning(
                "outbox full (%d events): dropped the oldest %d, %d dropped so far; "
                "is the broker reachable? (raise mqtt.outbox.max_events to keep more)",
                self.max_events, dropped, self.dropped,
            )  # fmt: skip

    def _hold(self, message: PendingMessage) -> None:
        self.unstored += 1
        self._memory[message.seq] = message
        if len(self._memory) > self.memory_limit:
            del self._memory[next(iter(self._memory))]
            self.lost += 1
            if self.lost == 1 or self.lost % 1000 == 0:
                log.error(
                    "outbox: memory full too (%d events); the oldest are lost, %d so far",
                    self.memory_limit, self.lost,
                )  # fmt: skip

    def _drop_oldest(self, count: int) -> int:
        assert self._db is not None
        cursor = self._db.execute(
            "DELETE FROM pending WHERE seq IN (SELECT seq FROM pending ORDER BY seq LIMIT ?)",
            (count,),
        )
        return int(cursor.rowcount)

    def _rollback(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):  # no transaction was open
                self._db.execute("ROLLBACK")

    def peek(self, n: int, after: int = 0) -> list[PendingMessage]:
        """Up to ``n`` pending messages with ``seq > after``, oldest first; they stay stored."""
        with self._lock:
            rows: list[PendingMessage] = []
            if self._db is not None and not self._damaged:
                try:
                    rows = [
                        PendingMessage(s, e, t, bytes(p), c)
                        for s, e, t, p, c in self._db.execute(
                            "SELECT seq, event_id, topic, payload, created FROM pending "
                            "WHERE seq > ? ORDER BY seq LIMIT ?",
                            (after, n),
                        ).fetchall()
                    ]
                except sqlite3.Error as err:
                    self._degrade(f"cannot read {self.path}: {reason(err)}", err=err)
            held = [m for seq, m in self._memory.items() if seq > after][:n]
        if held:
            rows = sorted(rows + held, key=lambda m: m.seq)[:n]
        return rows

    def ack(self, seq: int) -> None:
        """Remove one acknowledged message (a no-op if it is gone already)."""
        self.ack_many((seq,))

    def ack_many(self, seqs: Iterable[int]) -> None:
        """Remove acknowledged messages in one transaction."""
        with self._lock:
            params = [(seq,) for seq in seqs if self._memory.pop(seq, None) is None]
            if not params or self._db is None or self._damaged:
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                before = self._db.total_changes
                self._db.executemany("DELETE FROM pending WHERE seq = ?", params)
                removed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                # Not fatal: the messages are sent again later and consumers drop duplicates.
                self._degrade(f"cannot remove acknowledged events: {reason(err)}", err=err)
                return
            self._disk_depth -= removed

    def retained_topics(self) -> set[str]:
        """The retained topics recorded by :meth:`record_retained` (in this run or before)."""
        with self._lock:
            if self._db is None:
                return set()
            try:
                rows = self._db.execute("SELECT topic FROM retained").fetchall()
            except sqlite3.Error as err:
                log.warning("outbox %s: cannot read the retained topics: %s", self.path, err)
                return set()
        return {str(topic) for (topic,) in rows}

    def record_retained(self, topics: Iterable[str], *, published: bool = True) -> None:
        """Note retained topics as published (or, ``published=False``, as cleared again)."""
        sql = (
            "INSERT OR IGNORE INTO retained (topic) VALUES (?)"
            if published
            else "DELETE FROM retained WHERE topic = ?"
        )
        with self._lock:
            if self._db is None or self._damaged:
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, [(topic,) for topic in topics])
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                # Not fatal: at worst a stale retained topic outlives a config change.
                log.debug("outbox %s: cannot record retained topics: %s", self.path, err)

    def close(self) -> None:
        """Close the database (pending messages stay for the next start)."""
        with self._lock:
            if self._memory:
                self._retry_at = 0.0
                self._retry()
            if self._memory:
                self.lost += len(self._memory)
                log.error(
                    "outbox: %d event(s) held in memory could not be kept (%s) and are lost",
                    len(self._memory), self.degraded,
                )  # fmt: skip
                self._memory.clear()
            self._close_db()
