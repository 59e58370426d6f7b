"""A damaged outbox: move it aside and read back whatever rows can still be read.

An SD card that lost power mid-write, a truncated copy, a stray ``mkdir``: none of these may stop
a device nobody watches. The damaged file (with its WAL) is renamed with a timestamp, kept for
inspection, and its rows are read one b-tree seek at a time, so that a bad page loses only the
rows on it: a scan stops at the first bad page, a seek past it reaches the pages after it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from edgecam.sqlitefile import is_damage, leaf_rows, move_aside

__all__ = ["Row", "Salvage", "is_damage", "move_aside", "salvage"]

Row = tuple[int, str, str, bytes, float]
"""``(seq, event_id, topic, payload, created)`` of one pending message."""

_MAX_SKIP = 1 << 40


@dataclass
class Salvage:
    """What was kept of a damaged outbox."""

    aside: Path | None
    """Where the damaged file now is (None: nothing was there to move, or it could not move)."""
    rows: list[Row] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)
    unreadable: int = 0
    """Stretches of rows that could not be read (each one bad page or more)."""


def salvage(path: Path, clock: Callable[[], float] = time.time) -> Salvage:
    """Move the damaged outbox at ``path`` aside and read back what it can."""
    if not path.exists() and not path.is_symlink():
        return Salvage(None)
    aside = move_aside(path, clock)
    result = Salvage(aside)
    if aside.is_dir():
        return result
    source = _sized_copy(aside) or aside
    try:
        db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error:
        _walk(source, result)
        return result
    try:
        for row in _rows(db, result):
            result.rows.append(row)
        with contextlib.suppress(sqlite3.Error):
            result.retained = [str(t) for (t,) in db.execute("SELECT topic FROM retained")]
    finally:
        db.close()
        if result.unreadable or not result.rows:
            _walk(source, result)
        if source != aside:
            for suffix in ("", "-wal", "-shm"):
                source.with_name(source.name + suffix).unlink(missing_ok=True)
    return result


def _sized_copy(path: Path) -> Path | None:
    """A copy of a damaged database with a header SQLite accepts, or None if it has one.

    SQLite refuses a file shorter than its header says (truncated), or a garbled header; with a
    sound header (the page count of what is left) the pages that remain can be read.
    """
    try:
        with path.open("rb") as file:
            header = file.read(100)
        size = path.stat().st_size
    except OSError:
        return None
    if len(header) < 100 or size < 4096:
        return None
    if header.startswith(b"SQLite format 3\0"):
        page_size = struct.unpack(">H", header[16:18])[0]
        page_size = 65536 if page_size == 1 else page_size
        pages = struct.unpack(">I", header[28:32])[0]
        if not page_size or pages * page_size <= size:
            return None
    else:
        header, page_size = _template_header(path), 4096  # the outbox's page size
    fixed = bytearray(header)
    fixed[28:32] = struct.pack(">I", size // page_size)
    fixed[32:40] = bytes(8)  # no freelist: a garbled one would mislead the reader
    copy = path.with_name(path.name + ".salvage")
    try:
        shutil.copyfile(path, copy)
        with copy.open("r+b") as file:
            file.write(bytes(fixed))
    except OSError:
        copy.unlink(missing_ok=True)
        return None
    return copy


def _template_header(near: Path) -> bytes:
    """The 100-byte header of a new, empty outbox-like database (WAL, 4096-byte pages)."""
    template = near.with_name(near.name + ".template")
    template.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(template)
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.close()
        with template.open("rb") as file:
            return file.read(100)
    finally:
        for suffix in ("", "-wal", "-shm"):
            template.with_name(template.name + suffix).unlink(missing_ok=True)


def _rows(db: sqlite3.Connection, result: Salvage) -> Iterator[Row]:
    """Every readable row, oldest first; a bad page is stepped over by seeking beyond it."""
    after = 0
    while True:
        try:
            row = _first_after(db, after)
        except sqlite3.Error:
            result.unreadable += 1
            resumed = _skip_bad(db, after)
            if resumed is None:
                return
            after = resumed
            continue
        if row is None:
            return
        yield row
        after = row[0]


def _first_after(db: sqlite3.Connection, after: int) -> Row | None:
    found = db.execute(
        "SELECT seq, event_id, topic, payload, created FROM pending "
        "WHERE seq > ? ORDER BY seq LIMIT 1",
        (after,),
    ).fetchone()
    if found is None:
        return None
    seq, event_id, topic, payload, created = found
    return int(seq), str(event_id), str(topic), bytes(payload), float(created)


def _readable(db: sqlite3.Connection, after: int) -> bool:
    try:
        _first_after(db, after)
    except sqlite3.Error:
        return False
    return True


def _skip_bad(db: sqlite3.Connection, bad: int) -> int | None:
    """The smallest ``after`` beyond ``bad`` from which a seek works again (None: none does)."""
    step = 1
    while not _readable(db, bad + step):
        step *= 2
        if step > _MAX_SKIP:
            return None
    low, high = bad + step // 2, bad + step  # a seek after ``low`` fails, after ``high`` works
    while high - low > 1:
        mid = (low + high) // 2
        if _readable(db, mid):
            high = mid
        else:
            low = mid
    return high


def _walk(path: Path, result: Salvage) -> None:
    """Add the rows found on the file's leaf pages that the seeks did not reach, in order."""
    known = {row[0] for row in result.rows}
    topics = set(result.retained)
    for rowid, values in leaf_rows(path):
        match values:
            # REAL columns keep whole numbers as integers on disk.
            case (None, str(event_id), str(topic), bytes(payload), int() | float() as created):
                if rowid not in known:
                    known.add(rowid)
                    result.rows.append((rowid, event_id, topic, payload, float(created)))
            case (str(topic),) if topic not in topics:
                topics.add(topic)
                result.retained.append(topic)
    result.rows.sort(key=lambda row: row[0])
