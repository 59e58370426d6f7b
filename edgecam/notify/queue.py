"""One target's durable queue: the MQTT outbox's SQLite FIFO, and its snapshots beside it.

Each target has its own :class:`~edgecam.publish.outbox.Outbox` file (``<name>.sqlite``), so one
target that is down never holds up another, and order is kept per target. The outbox brings its
damage salvage and its full-disk behaviour (held in memory, counted, written back later). The
topic column holds the target's *name*; the URL is never stored. A snapshot is a file
``<name>.snapshots/<event id>.jpg`` written when it has been drawn, so a restart still attaches it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from edgecam.notify.message import Notification
from edgecam.publish.outbox import Outbox
from edgecam.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

MEMORY_LIMIT = 1000
"""Notifications held in memory at most while the disk cannot take them."""


@dataclass(frozen=True, slots=True)
class Queued:
    """The oldest notification of a queue, with its place in it."""

    seq: int
    notification: Notification | None
    """None when the stored row cannot be read back (it is dropped and counted)."""


class TargetQueue:
    """The pending notifications of one target, oldest first, kept across restarts."""

    def __init__(self, directory: Path, name: str, max_pending: int) -> None:
        self.name = name
        self.max_pending = max_pending
        # The bound is kept here (with notify's own words in the log); the outbox's own is a
        # backstop one above it.
        self.outbox = Outbox(
            directory / f"{name}.sqlite", max_events=max_pending + 1, memory_limit=MEMORY_LIMIT
        )
        self.snapshots = self.snapshot_dir(directory, name)
        self.dropped = 0
        """Oldest notifications dropped because ``max_pending`` were waiting."""
        self._sending = 0
        """The seq of the head the worker has taken (0: none)."""
        self._noisy = RateLimitedLog(log)

    @property
    def depth(self) -> int:
        """Notifications waiting."""
        return self.outbox.depth

    def add(self, notification: Notification) -> None:
        """Store one notification (never raises: the outbox degrades to memory).

        When ``max_pending`` are waiting already, the oldest is dropped and counted.
        """
        while self.outbox.depth >= self.max_pending:
            # Not the one being sent right now: it may be getting through.
            rows = [r for r in self.outbox.peek(2) if r.seq != self._sending]
            if not rows:
                break
            self.outbox.ack(rows[0].seq)
            with contextlib.suppress(OSError):
                self.snapshot_path(rows[0].event_id).unlink(missing_ok=True)
            self.dropped += 1
            self._noisy.warning(
                "full", "notify %s: %d notifications waiting (notify.max_pending): dropped the "
                "oldest, %d so far; is the target reachable?", self.name, self.max_pending,
                self.dropped,
            )  # fmt: skip
        self.outbox.add(
            notification.event_id, self.name, notification.payload(), notification.created
        )

    def head(self) -> Queued | None:
        """The oldest notification, or None when the queue is empty."""
        self.outbox.recover()
        rows = self.outbox.peek(1)
        if not rows:
            return None
        row = rows[0]
        self._sending = row.seq
        try:
            notification = Notification.from_payload(row.event_id, row.payload, row.created)
        except ValueError:
            return Queued(row.seq, None)
        return Queued(row.seq, notification)

    def done(self, queued: Queued) -> None:
        """Remove a notification that was sent or dropped, and its snapshot."""
        self.outbox.ack(queued.seq)
        self._sending = 0
        if queued.notification is not None:
            with contextlib.suppress(OSError):
                self.snapshot_path(queued.notification.event_id).unlink(missing_ok=True)

    def release(self) -> None:
        """The head taken by :meth:`head` was not sent (it stays, and may be dropped if full)."""
        self._sending = 0

    def snapshot_path(self, event_id: str) -> Path:
        """Where the snapshot of ``event_id`` is (or will be) kept."""
        return self.snapshots / f"{event_id}.jpg"

    @staticmethod
    def snapshot_dir(directory: Path, name: str) -> Path:
        """The directory of the snapshots of target ``name``'s queue in ``directory``."""
        return directory / f"{name}.snapshots"

    def store_snapshot(self, event_id: str, jpeg: bytes) -> None:
        """Keep the snapshot of a queued notification (atomically: a crash leaves none or all)."""
        store_snapshot(self.snapshots, event_id, jpeg, self._noisy)

    def sweep(self, older_than: float, now: float | None = None) -> int:
        """Delete snapshot files older than ``older_than`` seconds (left by a crash); how many."""
        now = time.time() if now is None else now
        removed = 0
        with contextlib.suppress(OSError):
            for path in self.snapshots.iterdir():
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > older_than:
                        path.unlink()
                        removed += 1
        return removed

    def close(self) -> None:
        """Close the queue file (what is pending stays for the next start)."""
        self.outbox.close()


def store_snapshot(snapshots: Path, event_id: str, jpeg: bytes, noisy: RateLimitedLog) -> None:
    """Write ``<snapshots>/<event_id>.jpg`` atomically; on failure say so (rate-limited)."""
    path = snapshots / f"{event_id}.jpg"
    temp = path.with_suffix(".tmp")
    try:
        snapshots.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(jpeg)
        temp.replace(path)
    except OSError as err:  # the notification goes without its picture
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        noisy.warning(
            "snapshot", "notify: cannot keep a snapshot in %s (%s); sending without",
            snapshots, err.strerror or err,
        )  # fmt: skip
