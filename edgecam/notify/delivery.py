"""The delivery workers: a thread per target sends its queue in order, retrying with backoff.

A notification leaves its queue only when the target accepted it (then it is never sent again)
or when it is older than ``max_age`` (dropped and counted). A target that fails waits
``retry_min``, doubling up to ``retry_max``, before its oldest notification is tried again. Each
target has its own thread, so one that is down, slow, or throttled by Apprise (it waits a few
seconds between two messages to most services) never holds up another. A worker holds an
exclusive lock on its queue (``<name>.lock``), so a second edgecam, or the worker of a reload's
new config, never sends the same head twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from edgecam.notify.config import NotifyConfig
from edgecam.notify.queue import Queued, TargetQueue
from edgecam.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

IDLE_WAIT = 1.0
"""Longest sleep of a worker with nothing to do (it is woken when something is queued)."""
SNAPSHOT_POLL = 0.02
"""How often a notification waiting for its snapshot looks again."""


class SendsMessages(Protocol):
    """What the worker sends through (:class:`~edgecam.notify.targets.Sender`)."""

    def send(self, title: str, body: str, attachment: Path | None = None) -> str | None:
        """None on success, else why not."""
        ...


@dataclass(slots=True)
class TargetState:
    """One target's queue, sender and figures; its worker thread is the only writer."""

    queue: TargetQueue
    sender: SendsMessages
    attach: bool
    sent: int = 0
    failed: int = 0
    """Failed attempts (each retry counts)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Notifications given up, by reason: ``max_age``, ``unreadable``."""
    failing_since: float | None = None
    """Wall-clock time of the first failure in the current run of failures."""
    last_error: str = ""
    backoff: float = 0.0
    next_try: float = 0.0
    """Monotonic time before which this target is left alone."""
    wake: threading.Event = field(default_factory=threading.Event)
    """Set when something was queued (or a snapshot kept) for this target."""


class Delivery:
    """Sends queued notifications, a thread per target, until closed."""

    def __init__(
        self,
        config: NotifyConfig,
        directory: Path,
        targets: Mapping[str, TargetState],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.directory = directory
        self.targets = dict(targets)
        self._clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._noisy = RateLimitedLog(log)

    def start(self) -> None:
        """Start a worker thread per target."""
        for name, state in self.targets.items():
            thread = threading.Thread(
                target=self._run, args=(name, state), name=f"notify-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self, target: str) -> None:
        """Something was queued for ``target``: look now."""
        self.targets[target].wake.set()

    def close(self, timeout: float) -> bool:
        """Stop after the sends in progress; False if a thread did not end within ``timeout``."""
        self._stop.set()
        for state in self.targets.values():
            state.wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = any(thread.is_alive() for thread in self._threads)
        if not alive:
            self._noisy.flush()
        return not alive

    def _run(self, name: str, state: TargetState) -> None:
        with self._locked(name) as lock:
            if lock is None:
                return
            while not self._stop.is_set():
                try:
                    if self._step(name, state):
                        continue
                except Exception as err:  # a surprise must not end the worker
                    log.debug("notify worker traceback", exc_info=True)
                    self._noisy.error(f"worker:{name}", "notify %s: %r", name, err)
                    state.next_try = time.monotonic() + self.config.retry_max
                state.wake.wait(self._idle_wait(state))
                state.wake.clear()

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[IO[bytes] | None]:
        """Hold the target's queue lock while sending (waiting for another holder to let go)."""
        path = self.directory / f"{name}.lock"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            file = path.open("ab")
        except OSError as err:
            log.error("notify %s: cannot lock %s (%s); nothing is sent", name, path, err)
            yield None
            return
        with file:
            warned = False
            while True:
                try:
                    fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not warned:
                        warned = True
                        log.info("notify %s: waiting for another sender of %s to end", name, path)
                    if self._stop.wait(0.1):
                        yield None
                        return
            yield file

    def _idle_wait(self, state: TargetState) -> float:
        """Until the next try is due (a retry, a snapshot awaited), else a while (empty queue)."""
        due = state.next_try - time.monotonic()
        return min(IDLE_WAIT, due) if due > 0 else IDLE_WAIT

    def _step(self, name: str, state: TargetState) -> bool:
        """Try the oldest notification of one target; True if the queue moved."""
        if time.monotonic() < state.next_try:
            return False
        queued = state.queue.head()
        if queued is None:
            return False
        note = queued.notification
        now = self._clock()
        if note is None or now - note.created > self.config.max_age:
            self._drop(name, state, queued, "unreadable" if note is None else "max_age")
            return True
        snapshot = state.queue.snapshot_path(note.event_id)
        has_snapshot = note.snapshot and state.attach and snapshot.exists()
        drawing = note.snapshot and state.attach and not has_snapshot
        if drawing and now - note.created < self.config.snapshot_wait:
            state.queue.release()
            state.next_try = time.monotonic() + SNAPSHOT_POLL  # still being drawn
            return False
        why = state.sender.send(note.title, note.body, snapshot if has_snapshot else None)
        if why is None:
            state.queue.done(queued)
            self._sent(name, state)
            return True
        state.queue.release()
        self._failed(name, state, why, now)
        return False

    def _sent(self, name: str, state: TargetState) -> None:
        state.sent += 1
        if state.failing_since is not None:
            log.info(
                "notify %s: delivering again after %.0f s of failures",
                name, self._clock() - state.failing_since,
            )  # fmt: skip
        state.failing_since = None
        state.backoff = 0.0
        state.next_try = 0.0

    def _failed(self, name: str, state: TargetState, why: str, now: float) -> None:
        state.failed += 1
        state.last_error = why
        if state.failing_since is None:
            state.failing_since = now
        state.backoff = min(max(self.config.retry_min, state.backoff * 2), self.config.retry_max)
        state.next_try = time.monotonic() + state.backoff
        self._noisy.warning(
            f"failed:{name}", "notify %s: sending failed (%s); %d pending, next try in %.1f s",
            name, why, state.queue.depth, state.backoff,
        )  # fmt: skip

    def _drop(self, name: str, state: TargetState, queued: Queued, reason: str) -> None:
        state.queue.done(queued)
        state.dropped[reason] = state.dropped.get(reason, 0) + 1
        self._noisy.warning(
            f"dropped:{name}", "notify %s: dropped a notification (%s), %d so far",
            name, "older than notify.max_age" if reason == "max_age" else "unreadable in its queue",
            sum(state.dropped.values()),
        )  # fmt: skip
