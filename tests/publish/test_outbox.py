"""The durable outbox: order, acknowledgement, persistence, bound, threads, default path."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from edgecam.publish.outbox import Outbox, default_outbox_path


def _fill(outbox: Outbox, count: int, start: int = 0) -> list[int]:
    return [
        outbox.add(f"id{i}", "t/events", f"p{i}".encode(), float(i))
        for i in range(start, start + count)
    ]


def test_fifo_ack_and_peek_after(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    seqs = _fill(outbox, 5)
    assert seqs == sorted(seqs)
    assert [m.event_id for m in outbox.peek(3)] == ["id0", "id1", "id2"]
    assert [m.event_id for m in outbox.peek(10, after=seqs[2])] == ["id3", "id4"]
    outbox.ack(seqs[1])
    outbox.ack_many([seqs[0], seqs[0], 12345])  # repeats and unknown seqs are harmless
    assert outbox.depth == 3
    first = outbox.peek(1)[0]
    assert (first.event_id, first.topic, first.payload, first.created) == (
        "id2",
        "t/events",
        b"p2",
        2.0,
    )
    outbox.close()


def test_pending_survive_reopen_and_seq_keeps_growing(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    outbox = Outbox(path)
    seqs = _fill(outbox, 3)
    outbox.ack_many(seqs)
    _fill(outbox, 2, start=3)
    outbox.close()  # as after a crash: nothing else happens between add and reopening
    again = Outbox(path)
    assert again.depth == 2
    assert [m.event_id for m in again.peek(10)] == ["id3", "id4"]
    assert again.add("id5", "t", b"", 0.0) > max(seqs)  # AUTOINCREMENT never reuses a seq
    with contextlib.closing(sqlite3.connect(path)) as db:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    again.close()


def test_bound_drops_oldest_counts_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite", max_events=10)
    with caplog.at_level(logging.WARNING):
        _fill(outbox, 13)
    assert outbox.depth == 10
    assert outbox.dropped == 3
    assert [m.event_id for m in outbox.peek(1)] == ["id3"]
    assert "outbox full" in caplog.text and "max_events" in caplog.text
    outbox.close()


def test_adds_and_acks_from_two_threads(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite", synchronous="full")
    done = threading.Event()

    def acker() -> None:
        while not done.is_set() or outbox.depth:
            outbox.ack_many(m.seq for m in outbox.peek(50))

    thread = threading.Thread(target=acker)
    thread.start()
    _fill(outbox, 500)
    done.set()
    thread.join(30)
    assert outbox.depth == 0
    outbox.close()


def test_unwritable_place_degrades_with_a_clear_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    outbox = Outbox(blocker / "o.sqlite")  # the service still starts
    assert outbox.degraded == f"cannot open {blocker / 'o.sqlite'}: {blocker} is not a directory"
    assert "make the directory writable or set mqtt.outbox.path" in caplog.text
    seqs = _fill(outbox, 3)
    assert [m.seq for m in outbox.peek(10)] == seqs  # held in memory, to be sent live
    outbox.ack_many(seqs[:2])
    assert (outbox.depth, outbox.unstored, outbox.lost) == (1, 3, 0)
    outbox.close()
    assert outbox.lost == 1  # the one never acknowledged


def test_default_path_prefers_systemd_then_var_lib_then_xdg(tmp_path: Path) -> None:
    state = {"STATE_DIRECTORY": "/var/lib/edgecam:/other"}
    assert default_outbox_path(state) == Path("/var/lib/edgecam/outbox.sqlite")
    writable = tmp_path / "varlib"
    writable.mkdir()
    assert default_outbox_path({}, system_dir=writable) == writable / "outbox.sqlite"
    missing = tmp_path / "missing"
    xdg = {"XDG_STATE_HOME": "/x"}
    assert default_outbox_path(xdg, system_dir=missing) == Path("/x/edgecam/outbox.sqlite")
    home = default_outbox_path({}, home=Path("/home/u"), system_dir=missing)
    assert home == Path("/home/u/.local/state/edgecam/outbox.sqlite")
