"""Rate-limited logging: a flood of one kind of warning writes a few lines, then counts.

A device on an SD card must not write thousands of lines a second because a neighbour floods
an MQTT topic or a disk is full. Each kind of message (its ``key``) may log ``burst`` lines per
``interval``; the rest are counted, and the next line of that kind after the interval says how
many were suppressed (as does :meth:`RateLimitedLog.flush`, on shutdown).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

INTERVAL = 60.0
BURST = 5


@dataclass(slots=True)
class _Window:
    start: float
    logged: int = 0
    suppressed: int = 0


class RateLimitedLog:
    """Logs through ``logger``, at most ``burst`` lines per ``interval`` seconds for each key."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = INTERVAL,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.burst = burst
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self.suppressed = 0
        """Lines suppressed in all, since start."""

    def log(self, level: int, key: str, message: str, *args: object) -> None:
        """Log ``message % args`` unless this key already logged ``burst`` lines this interval."""
        if not self.logger.isEnabledFor(level):
            return
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            earlier = 0
            if window is None or now - window.start >= self.interval:
                earlier = window.suppressed if window is not None else 0
                window = self._windows[key] = _Window(now)
            if window.logged >= self.burst:
                window.suppressed += 1
                self.suppressed += 1
                return
            window.logged += 1
        if earlier:
            message += " (%d more like it suppressed in the last %.0f s)"
            args = (*args, earlier, self.interval)
        elif window.logged == self.burst:
            message += " (more like it are suppressed for %.0f s)"
            args = (*args, self.interval)
        self.logger.log(level, message, *args)

    def warning(self, key: str, message: str, *args: object) -> None:
        """A rate-limited warning."""
        self.log(logging.WARNING, key, message, *args)

    def error(self, key: str, message: str, *args: object) -> None:
        """A rate-limited error."""
        self.log(logging.ERROR, key, message, *args)

    def flush(self) -> None:
        """Say how many lines each key suppressed since its last line (e.g. when stopping)."""
        with self._lock:
            pending = [(k, w.suppressed) for k, w in self._windows.items() if w.suppressed]
            for window in self._windows.values():
                window.suppressed = 0
        for key, count in pending:
            self.logger.warning("%d more %r message(s) were suppressed", count, key)
