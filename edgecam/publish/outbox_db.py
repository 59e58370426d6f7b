"""The outbox's file: where it lives, its schema, opening it, and why a failure happened.

Opening checks the file before anything is written to it: a path that is not edgecam's outbox
(a directory, a device, another program's file) is refused with :class:`ForeignFileError` and never
renamed (:func:`edgecam.sqlitefile.foreign`); a damaged outbox fails ``quick_check`` and is
salvaged by the caller (:mod:`edgecam.publish.salvage`).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edgecam.sqlitefile import OUTBOX_ID, foreign, is_damage, set_application_id

OUTBOX_FILE = "outbox.sqlite"
SYSTEM_STATE_DIR = Path("/var/lib/edgecam")
TABLES = frozenset({"pending", "retained"})

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


class ForeignFileError(OSError):
    """The configured path holds something that is not edgecam's outbox; it is left alone."""


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


def not_an_outbox(path: Path) -> str | None:
    """Why ``path`` must not be used as the outbox (None: absent, or edgecam's outbox)."""
    return foreign(path, OUTBOX_ID, TABLES, "an outbox")


def connect(
    path: Path, synchronous: Literal["normal", "full"]
) -> tuple[sqlite3.Connection, int, int]:
    """Open (or create) the outbox: the connection, its depth and the highest seq ever used."""
    if (why := not_an_outbox(path)) is not None:
        raise ForeignFileError(errno.EEXIST, why)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        blocker = next(p for p in path.parents if p.exists() and not p.is_dir())
        raise NotADirectoryError(err.errno, f"{blocker} is not a directory") from err
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        check = str(db.execute("PRAGMA quick_check(1)").fetchone()[0])
        if check != "ok":
            # One line for the log: the first finding, without its "*** in database" header.
            found = [line for line in check.splitlines() if not line.startswith("***")]
            detail = (found or [check])[0][:200]
            raise sqlite3.DatabaseError(f"database disk image is malformed: {detail}")
        db.execute(_SCHEMA)
        db.execute(_RETAINED_SCHEMA)
        set_application_id(db, OUTBOX_ID)
        depth, top = db.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM pending").fetchone()
        (used,) = db.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'pending'"
        ).fetchone()
    except BaseException:
        db.close()
        raise
    return db, int(depth), max(int(top), int(used))


def advice(err: Exception | None) -> str:
    """What to do about ``err`` (with its leading "; "), or nothing when nothing helps."""
    full = isinstance(err, sqlite3.Error) and getattr(err, "sqlite_errorname", "") == "SQLITE_FULL"
    if full or (isinstance(err, OSError) and err.errno == errno.ENOSPC):
        return "; free some space on its disk"
    if (err is not None and is_damage(err)) or isinstance(err, ForeignFileError):
        return ""
    return "; make the directory writable or set mqtt.outbox.path"


def reason(err: BaseException) -> str:
    """The short reason of an OS or SQLite error, for a log line."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err)
