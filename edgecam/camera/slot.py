"""The latest-frame slot between capture and detection: the newest frame wins."""

from __future__ import annotations

import threading

from edgecam.types import Frame


class LatestFrameSlot:
    """Holds at most one frame; a frame replaced before it was taken counts as dropped.

    With ``lossless=True`` a producer waits until the previous frame was taken instead of
    replacing it (used to analyse every frame of a file).
    """

    def __init__(self, *, lossless: bool = False) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.lossless = lossless
        self.dropped = 0
        self.delivered = 0

    def put(self, frame: Frame, stop: threading.Event | None = None) -> None:
        """Offer a frame; replaces (and counts) an unread one unless the slot is lossless."""
        with self._cond:
            if self.lossless:
                while self._frame is not None and not self._closed:
                    if stop is not None and stop.is_set():
                        return
                    self._cond.wait(0.1)
            elif self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """The newest frame, waiting up to ``timeout`` seconds; ``None`` if none came or closed."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            if frame is not None:
                self.delivered += 1
                self._cond.notify_all()
            return frame

    def close(self) -> None:
        """Mark the stream as ended: wakes waiters; a pending frame can still be taken."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once the producer has ended and no frame is pending."""
        with self._cond:
            return self._closed and self._frame is None
