"""The latest-frame slot between capture and detection: the newest frame wins."""

from __future__ import annotations

import threading
from collections import deque

from edgecam.types import Frame

LOSSLESS_DEPTH = 4
"""Frames a lossless slot holds before its producer waits."""


class LatestFrameSlot:
    """Holds the newest frame; a frame replaced before it was taken counts as dropped.

    With ``lossless=True`` it is a short queue instead: the producer waits while ``depth`` frames
    are pending, and no frame is dropped (used to analyse every frame of a recording). The slack
    absorbs the moments in which the low-priority capture thread gets no CPU, so the detector
    does not have to wait for it afterwards.
    """

    def __init__(self, *, lossless: bool = False, depth: int = LOSSLESS_DEPTH) -> None:
        self._cond = threading.Condition()
        self._frames: deque[Frame] = deque()
        self._closed = False
        self.lossless = lossless
        self.depth = depth if lossless else 1
        self.dropped = 0
        self.delivered = 0

    def put(self, frame: Frame, stop: threading.Event | None = None) -> None:
        """Offer a frame; replaces (and counts) an unread one unless the slot is lossless."""
        with self._cond:
            if self.lossless:
                while len(self._frames) >= self.depth and not self._closed:
                    if stop is not None and stop.is_set():
                        return
                    self._cond.wait(0.1)
            elif self._frames:
                self.dropped += 1
                self._frames.clear()
            self._frames.append(frame)
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """The next frame, waiting up to ``timeout`` seconds; ``None`` if none came or closed."""
        with self._cond:
            if not self._frames and not self._closed:
                self._cond.wait(timeout)
            if not self._frames:
                return None
            frame = self._frames.popleft()
            self.delivered += 1
            self._cond.notify_all()
            return frame

    def close(self) -> None:
        """Mark the stream as ended: wakes waiters; pending frames can still be taken."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once the producer has ended and no frame is pending."""
        with self._cond:
            return self._closed and not self._frames
