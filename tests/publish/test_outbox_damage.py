"""A damaged outbox never stops the service: it is moved aside and what can be read is kept."""

from __future__ import annotations

import logging
import os
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from edgecam.publish.outbox import Outbox

EVENTS = 2000
PAYLOAD = b"x" * 200
_GARBAGE = random.Random(16)  # the same damage on every run


def _garbage(size: int) -> bytes:
    return _GARBAGE.randbytes(size)


def _outbox_with_events(path: Path, count: int = EVENTS) -> None:
    outbox = Outbox(path)
    for i in range(count):
        outbox.add(f"id{i}", "t/events", PAYLOAD, float(i))
    outbox.record_retained([f"edgecam/dev/cam/rule{i}/state" for i in range(50)])
    outbox.close()


def _bad_page(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.seek(size // 2)
        file.write(_garbage(3 * 4096))


def _truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size * 2 // 3)


def _garbage_header(path: Path) -> None:
    with path.open("r+b") as file:
        file.write(_garbage(100))


def _root_page(path: Path) -> None:
    """Garbage over the pending table's root page only: every leaf page is intact."""
    db = sqlite3.connect(path)
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'pending'").fetchone()
    db.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * 4096)
        file.write(_garbage(4096))


def _retained_pages(path: Path) -> None:
    """Garbage over every page of the retained-topic table (its b-tree root and leaves)."""
    db = sqlite3.connect(path)
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'retained'").fetchone()
    (index_root,) = db.execute(
        "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'retained' AND type = 'index'"
    ).fetchone()
    db.close()
    with path.open("r+b") as file:
        for page in (root, index_root):
            file.seek((page - 1) * 4096)
            file.write(_garbage(4096))


DAMAGE: dict[str, tuple[Callable[[Path], None], int, int]] = {
    # name: (damage, fewest events kept, most events kept)
    "bad page": (_bad_page, EVENTS - 200, EVENTS - 1),
    "truncated": (_truncated, EVENTS // 3, EVENTS - 1),
    "garbage header": (_garbage_header, EVENTS, EVENTS),  # a sound header is put back
    "retained pages": (_retained_pages, EVENTS, EVENTS),
    "root page": (_root_page, EVENTS, EVENTS),  # the leaf pages are walked
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_outbox_is_moved_aside_and_salvaged(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    _outbox_with_events(path)
    damage, fewest, most = DAMAGE[kind]
    damage(path)
    with caplog.at_level(logging.INFO, logger="edgecam.publish.outbox"):
        outbox = Outbox(path)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, caplog.text
    message = errors[0].getMessage()
    kept = [m.event_id for m in outbox.peek(EVENTS + 1)]
    assert f"{len(kept)} event(s)" in message and "moved aside to" in message, message
    assert fewest <= len(kept) <= most, (kind, len(kept))
    assert kept == sorted(kept, key=lambda e: int(e[2:]))  # still oldest first
    assert (outbox.recovered, outbox.salvaged, outbox.degraded) == (1, len(kept), None)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("outbox.sqlite.damaged-")]
    assert aside, list(tmp_path.iterdir())  # kept for inspection
    # The fresh outbox works, and its new events come after the salvaged ones.
    seq = outbox.add("new", "t/events", b"", 0.0)
    assert outbox.peek(EVENTS + 2)[-1].event_id == "new"
    assert all(m.seq < seq for m in outbox.peek(EVENTS + 2)[:-1])
    outbox.close()
    again = Outbox(path)  # and it opens cleanly next time
    assert again.recovered == 0 and again.depth == len(kept) + 1
    again.close()


@pytest.mark.parametrize("what", ["directory", "text file", "another database"])
def test_a_path_that_is_not_an_outbox_is_never_renamed(
    tmp_path: Path, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    if what == "directory":
        path.mkdir()
        (path / "holiday.jpg").write_bytes(b"the user's photo")
    elif what == "text file":
        path.write_text("notes\n" * 2000)
    else:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE recipes (name TEXT)")
        db.close()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with caplog.at_level(logging.INFO, logger="edgecam.publish.outbox"):
        outbox = Outbox(path, retry_interval=0.0)
        outbox.add("e1", "t/events", b"{}", 0.0)  # held in memory, never written over it
        assert [m.event_id for m in outbox.peek(10)] == ["e1"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "mqtt.outbox.path" in errors[0], errors
    assert outbox.degraded is not None and outbox.recovered == 0
    outbox.close()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing renamed or added
