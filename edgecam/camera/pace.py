"""Real-time pacing for recordings: hand frames on at the file's own rate, like a live camera."""

from __future__ import annotations

import time


class RealtimePacer:
    """Sleeps so that frames leave at ``fps``; a reader that falls behind starts afresh."""

    def __init__(self) -> None:
        self._next_due = 0.0

    def start(self) -> None:
        """Count from now (at open, and when the file starts again)."""
        self._next_due = time.monotonic()

    def wait(self, fps: float) -> None:
        """Wait until the next frame is due; never sleeps to catch up on a late frame."""
        self._next_due += 1.0 / fps
        delay = self._next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            self._next_due = time.monotonic()
