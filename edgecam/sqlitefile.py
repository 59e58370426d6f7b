"""SQLite files edgecam owns: told from anyone else's, moved aside, read page by page.

edgecam renames a file only when it is its own: an SQLite database carrying edgecam's
``application_id`` (set when it creates one), one written before that id existed (only edgecam's
tables in it), or a damaged file whose pages still hold edgecam's schema. Anything else at a
configured path (a directory, a device, another program's database, a text file) is a config error,
never taken over. The page walk reads table rows straight from the b-tree leaf pages (and the WAL),
so a file whose root pages or header are gone still gives back the rows on its intact pages.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

MAGIC = b"SQLite format 3\0"
OUTBOX_ID = 0x45434F42
"""``PRAGMA application_id`` of an outbox ("ECOB")."""
EVENTS_ID = 0x45434556
"""``PRAGMA application_id`` of an events store ("ECEV")."""
DAMAGED = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
"""SQLite error names that mean the file itself is damaged (not full, not unwritable)."""
_TABLE_LEAF = 0x0D
_MAX_PAGES = 1 << 20
"""Pages walked at most (4 GB of 4 KB pages): a bound on the work of reading a huge file."""

Value = int | float | str | bytes | None
_UNDECODABLE = (IndexError, KeyError, ValueError, struct.error, UnicodeDecodeError)
"""What a damaged page or cell raises while it is decoded: that cell (or page) is skipped."""


def is_damage(err: BaseException) -> bool:
    """True if ``err`` says the database file is damaged."""
    return isinstance(err, sqlite3.DatabaseError) and (
        getattr(err, "sqlite_errorname", "") in DAMAGED
        or "malformed" in str(err)
        or "not a database" in str(err)
    )


def foreign(path: Path, app_id: int, tables: frozenset[str], what: str) -> str | None:
    """Why ``path`` is not edgecam's ``what`` and must not be touched (None: absent or ours).

    ``tables`` are the names of the tables edgecam creates in it; a damaged file is edgecam's if
    its pages still name one of them in a ``CREATE TABLE``.
    """
    try:
        info = path.stat()
    except OSError:
        return None  # absent, or not reachable: opening it says why, and nothing is renamed
    if stat.S_ISDIR(info.st_mode):
        return f"{path} is a directory; give the path of a file ({what}) that edgecam may create"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file (a device, FIFO or socket); give another path"
    if info.st_size == 0:
        return None
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as err:
        return f"{path} is not readable ({err.strerror}); fix its owner or mode"
    if header.startswith(MAGIC) and len(header) == 100:
        found = struct.unpack(">I", header[68:72])[0]
        if found == app_id:
            return None
        if found != 0:
            return _other(path, f"application id {found:#x}", what)
        names = _table_names(path)
        if names is not None:
            extra = sorted(names - tables - {"sqlite_sequence"})
            if not extra:
                return None
            return _other(path, f"tables {', '.join(extra[:5])}", what)
    if _names_tables(path, tables):
        return None  # damaged, but its own schema is still on its pages
    return f"{path} is not {what} (not an edgecam database); move it away or give another path"


def _other(path: Path, which: str, what: str) -> str:
    return f"{path} is another program's SQLite database ({which}), not {what}; give another path"


def _creates(sql: str, tables: frozenset[str]) -> bool:
    return any(f"TABLE IF NOT EXISTS {t} " in sql or f"TABLE {t} " in sql for t in tables)


def _table_names(path: Path) -> set[str] | None:
    """The table names in a sound database, or None if its schema cannot be read."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return {str(name) for (name,) in rows}


def _names_tables(path: Path, tables: frozenset[str]) -> bool:
    for _, values in leaf_rows(path, max_pages=64):
        sql = values[4] if len(values) == 5 else None
        if values[:1] == ("table",) and isinstance(sql, str) and _creates(sql, tables):
            return True
    return False


def move_aside(path: Path, clock: Callable[[], float] = time.time) -> Path:
    """Rename ``path`` and its ``-wal``/``-shm`` with a timestamp suffix; return the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(clock()))
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    return aside


def leaf_rows(path: Path, max_pages: int = _MAX_PAGES) -> Iterator[tuple[int, tuple[Value, ...]]]:
    """``(rowid, values)`` of every cell on every table leaf page of the file and its WAL.

    The WAL's latest copy of a page replaces the file's. Cells that do not decode are skipped:
    a damaged page loses its own rows only.
    """
    usable, pages = _pages(path, max_pages)
    for number in sorted(pages):
        with contextlib.suppress(*_UNDECODABLE):
            yield from _cells(pages, number, usable)


def _pages(path: Path, max_pages: int) -> tuple[int, dict[int, bytes]]:
    """The page size, and page number -> content (the WAL's latest frame wins)."""
    try:
        with path.open("rb") as file:
            data = file.read(max_pages * 4096)
    except OSError:
        return 4096, {}
    size = 4096
    if data.startswith(MAGIC) and len(data) >= 100:
        raw = struct.unpack(">H", data[16:18])[0]
        candidate = 65536 if raw == 1 else raw
        if candidate >= 512 and candidate & (candidate - 1) == 0:
            size = candidate
    pages = {i + 1: data[i * size : (i + 1) * size] for i in range(len(data) // size)}
    _overlay_wal(path.with_name(path.name + "-wal"), size, pages)
    return size, pages


def _overlay_wal(wal: Path, size: int, pages: dict[int, bytes]) -> None:
    try:
        data = wal.read_bytes()
    except OSError:
        return
    if len(data) < 32 or struct.unpack(">I", data[8:12])[0] != size:
        return
    offset = 32
    while offset + 24 + size <= len(data):
        number = struct.unpack(">I", data[offset : offset + 4])[0]
        if number:
            pages[number] = data[offset + 24 : offset + 24 + size]
        offset += 24 + size


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        byte = data[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | data[at + 8], at + 9


def _cells(
    pages: dict[int, bytes], number: int, usable: int
) -> Iterator[tuple[int, tuple[Value, ...]]]:
    page = pages[number]
    base = 100 if number == 1 else 0
    if page[base] != _TABLE_LEAF:
        return
    count = struct.unpack(">H", page[base + 3 : base + 5])[0]
    for i in range(count):
        pointer = struct.unpack(">H", page[base + 8 + 2 * i : base + 10 + 2 * i])[0]
        with contextlib.suppress(*_UNDECODABLE):
            size, at = _varint(page, pointer)
            rowid, at = _varint(page, at)
            payload = _payload(pages, page, at, size, usable)
            yield rowid, _record(payload)


def _payload(pages: dict[int, bytes], page: bytes, at: int, size: int, usable: int) -> bytes:
    """A cell's payload, followed through its overflow pages when it does not fit."""
    most = usable - 35
    if size <= most:
        return page[at : at + size]
    least = (usable - 12) * 32 // 255 - 23
    local = least + (size - least) % (usable - 4)
    local = local if local <= most else least
    parts = [page[at : at + local]]
    left = size - local
    following = struct.unpack(">I", page[at + local : at + local + 4])[0]
    while left > 0:
        chunk = pages[following]
        following = struct.unpack(">I", chunk[:4])[0]
        parts.append(chunk[4 : 4 + min(left, usable - 4)])
        left -= usable - 4
    return b"".join(parts)


def _record(payload: bytes) -> tuple[Value, ...]:
    header, at = _varint(payload, 0)
    types = []
    while at < header:
        kind, at = _varint(payload, at)
        types.append(kind)
    values: list[Value] = []
    at = header
    for kind in types:
        value, at = _value(payload, at, kind)
        values.append(value)
    if at != len(payload):
        raise ValueError("record size does not match its payload")
    return tuple(values)


_INT_SIZES = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _value(data: bytes, at: int, kind: int) -> tuple[Value, int]:
    if kind == 0:
        return None, at
    if kind in _INT_SIZES:
        n = _INT_SIZES[kind]
        if at + n > len(data):
            raise ValueError("integer past the payload")
        return int.from_bytes(data[at : at + n], "big", signed=True), at + n
    if kind == 7:
        return struct.unpack(">d", data[at : at + 8])[0], at + 8
    if kind in (8, 9):
        return kind - 8, at
    if kind < 12:
        raise ValueError("reserved serial type")
    n = (kind - 12) // 2
    if at + n > len(data):
        raise ValueError("value past the payload")
    chunk = data[at : at + n]
    return (bytes(chunk) if kind % 2 == 0 else chunk.decode()), at + n


def set_application_id(db: sqlite3.Connection, app_id: int) -> None:
    """Mark a database edgecam opened as its own (a no-op when it is marked already)."""
    (current,) = db.execute("PRAGMA application_id").fetchone()
    if int(current) != app_id:
        db.execute(f"PRAGMA application_id = {int(app_id)}")
