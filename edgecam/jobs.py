"""A background thread that works through queued jobs one at a time, off the detector's thread.

Snapshots and clips use it: the pipeline only queues a job and goes on with the next frame.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobThread(Generic[T]):
    """Runs ``handle(job)`` for each submitted job in order, on a thread started on first use.

    With ``depth``, at most that many jobs wait: one more drops the oldest waiting job.
    ``handle`` deals with its own failures; one that still raises is logged and the thread goes
    on with the next job.
    """

    def __init__(self, name: str, handle: Callable[[T], None], depth: int | None = None) -> None:
        self.name = name
        self._handle = handle
        self._depth = depth
        self._jobs: deque[T] = deque()
        self._cond = threading.Condition()
        self._taking = True
        self._closing = False
        self._thread: threading.Thread | None = None

    def submit(self, job: T) -> bool:
        """Queue ``job`` without waiting (any thread); True if the oldest waiting job made room.

        Jobs submitted after :meth:`stop_taking` or :meth:`abandon` are ignored.
        """
        with self._cond:
            if not self._taking:
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            full = self._depth is not None and len(self._jobs) >= self._depth
            if full:
                self._jobs.popleft()
            self._jobs.append(job)
            self._cond.notify()
            return full

    def stop_taking(self) -> None:
        """Ignore jobs submitted from now on; the queued ones are still done."""
        with self._cond:
            self._taking = False

    def close(self, timeout: float) -> bool:
        """Let the thread end once the queue is empty; True if it did within ``timeout`` s."""
        with self._cond:
            self._closing = True
            self._cond.notify()
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def abandon(self) -> int:
        """Drop the jobs not begun and ignore new ones; how many were dropped."""
        return len(self.abandon_jobs())

    def abandon_jobs(self) -> list[T]:
        """Drop the jobs not begun and ignore new ones; the dropped jobs (to report them)."""
        with self._cond:
            self._taking = False
            dropped = list(self._jobs)
            self._jobs.clear()
            return dropped

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the job in progress (after :meth:`close`)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closing:
                    self._cond.wait()
                if not self._jobs:
                    return
                job = self._jobs.popleft()
            try:
                self._handle(job)
            except Exception:  # a bug in one job must not end the thread
                log.exception("%s: a job failed", self.name)
