"""The durable outbox: events wait in SQLite until the broker has acknowledged them.

WAL with ``synchronous=NORMAL`` by default: a commit is in the WAL (the OS page cache) when
``add`` returns, so a crash or SIGKILL of edgecam loses nothing, and there is no fsync per event
(an fsync on an SD card costs milliseconds and wears the card). Only a power cut can lose the last
commits; ``synchronous=FULL`` (``mqtt.outbox.synchronous: full``) closes that gap too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edgecam.errors import PublishError

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite"
SYSTEM_STATE_DIR = Path("/var/lib/edgecam")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL
)
"""


_RETAINED_SCHEMA = """
CREATE TABLE IF NOT EXISTS retained (
    topic TEXT PRIMARY KEY
)
"""
"""Retained topics edgecam has published, so the ones a new config drops can be cleared."""


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """One message waiting for the broker's acknowledgement."""

    seq: int
    """Position in the outbox; increases forever (AUTOINCREMENT), so order survives restarts."""
    event_id: str
    topic: str
    payload: bytes
    created: float
    """Wall-clock time the message entered the outbox (epoch seconds)."""


def default_outbox_path(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    system_dir: Path = SYSTEM_STATE_DIR,
) -> Path:
    """Where the outbox lives when the config does not say: systemd's state dir, else XDG."""
    env = os.environ if env is None else env
    state_dirs = env.get("STATE_DIRECTORY")  # set by systemd's StateDirectory=
    if state_dirs:
        return Path(state_dirs.split(":")[0]) / OUTBOX_FILE
    if system_dir.is_dir() and os.access(system_dir, os.W_OK):
        return system_dir / OUTBOX_FILE
    xdg = env.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else (home or Path.home()) / ".local" / "state"
    return base / "edgecam" / OUTBOX_FILE


class Outbox:
    """A bounded FIFO of pending messages in SQLite, safe to use from several threads."""

    def __init__(
        self,
        path: Path,
        max_events: int = 100_000,
        synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        self.path = path
        self.max_events = max_events
        self.dropped = 0
        """Messages dropped (oldest first) because the outbox was full, since it was opened."""
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._db.execute(_SCHEMA)
            self._db.execute(_RETAINED_SCHEMA)
            row = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()
            self._depth = int(row[0])
        except (OSError, sqlite3.Error) as err:
            raise PublishError(
                f"outbox {path}: cannot open: {err}; make the directory writable "
                "or set mqtt.outbox.path"
            ) from err
        if self._depth:
            log.info("outbox %s: %d event(s) pending from an earlier run", path, self._depth)

    @property
    def depth(self) -> int:
        """Messages waiting for an acknowledgement."""
        return self._depth

    def add(self, event_id: str, topic: str, payload: bytes, created: float) -> int:
        """Store one message durably and return its ``seq``; drop the oldest when full."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                over = self._depth + 1 - self.max_events
                if over > 0:
                    self._drop_oldest(over)
                cursor = self._db.execute(
                    "INSERT INTO pending (event_id, topic, payload, created) VALUES (?, ?, ?, ?)",
                    (event_id, topic, payload, created),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                raise PublishError(f"outbox {self.path}: cannot store an event: {err}") from err
            self._depth += 1
            seq = cursor.lastrowid
            assert seq is not None
            return seq

    def _drop_oldest(self, count: int) -> None:
        cursor = self._db.execute(
            "DELETE FROM pending WHERE seq IN (SELECT seq FROM pending ORDER BY seq LIMIT ?)",
            (count,),
        )
        self._depth -= cursor.rowcount
        self.dropped += cursor.rowcount
        log.warning(
            "outbox full (%d events): dropped the oldest %d, %d dropped so far; "
            "is the broker reachable? (raise mqtt.outbox.max_events to keep more)",
            self.max_events, cursor.rowcount, self.dropped,
        )  # fmt: skip

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # no transaction was open
            self._db.execute("ROLLBACK")

    def peek(self, n: int, after: int = 0) -> list[PendingMessage]:
        """Up to ``n`` pending messages with ``seq > after``, oldest first; they stay stored."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, topic, payload, created FROM pending "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, n),
            ).fetchall()
        return [PendingMessage(s, e, t, bytes(p), c) for s, e, t, p, c in rows]

    def ack(self, seq: int) -> None:
        """Remove one acknowledged message (a no-op if it is gone already)."""
        self.ack_many((seq,))

    def ack_many(self, seqs: Iterable[int]) -> None:
        """Remove acknowledged messages in one transaction."""
        params = [(seq,) for seq in seqs]
        if not params:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                before = self._db.total_changes
                self._db.executemany("DELETE FROM pending WHERE seq = ?", params)
                removed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                # Not fatal: the messages are sent again later and consumers drop duplicates.
                log.error("outbox %s: cannot remove acknowledged events: %s", self.path, err)
                return
            self._depth -= removed

    def retained_topics(self) -> set[str]:
        """The retained topics recorded by :meth:`record_retained` (in this run or before)."""
        with self._lock:
            rows = self._db.execute("SELECT topic FROM retained").fetchall()
        return {str(topic) for (topic,) in rows}

    def record_retained(self, topics: Iterable[str], *, published: bool = True) -> None:
        """Note retained topics as published (or, ``published=False``, as cleared again)."""
        sql = (
            "INSERT OR IGNORE INTO retained (topic) VALUES (?)"
            if published
            else "DELETE FROM retained WHERE topic = ?"
        )
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, [(topic,) for topic in topics])
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                # Not fatal: at worst a stale retained topic outlives a config change.
                log.warning("outbox %s: cannot record retained topics: %s", self.path, err)

    def close(self) -> None:
        """Close the database (pending messages stay for the next start)."""
        with self._lock:
            self._db.close()
