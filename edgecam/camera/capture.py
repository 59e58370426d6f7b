"""The capture loop: one thread per camera reading its source into a latest-frame slot."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

from edgecam.camera.base import FrameSource
from edgecam.camera.slot import LatestFrameSlot
from edgecam.errors import CameraError
from edgecam.types import Frame

log = logging.getLogger(__name__)


class CaptureThread(threading.Thread):
    """Reads frames as fast as the source gives them; the newest frame waits in ``slot``."""

    def __init__(
        self,
        source: FrameSource,
        slot: LatestFrameSlot,
        stop: threading.Event,
        ready: threading.Event,
    ) -> None:
        super().__init__(name=f"capture-{source.name}", daemon=True)
        self.source = source
        self.slot = slot
        self._stop_event = stop
        self._ready = ready
        self.frames = 0
        self.error: CameraError | None = None

    def run(self) -> None:
        """Read until the source ends, fails or the service stops; then close the slot."""
        _lower_priority()
        try:
            self._loop()
        except CameraError as err:
            self.error = err
            log.error("%s", err)
        finally:
            self.source.close()
            self.slot.close()
            self._ready.set()

    def _loop(self) -> None:
        name = self.source.name
        while not self._stop_event.is_set():
            image = self.source.read()
            if image is None:
                log.info("camera %s: end of stream after %d frames", name, self.frames)
                return
            frame = Frame(image, self.frames, time.monotonic(), time.time(), name)
            self.frames += 1
            self.slot.put(frame, self._stop_event)
            self._ready.set()


CAPTURE_NICENESS = 5


def _lower_priority() -> None:
    """Make the calling capture thread yield to the inference threads when cores are scarce.

    On a CPU-bound Pi, TFLite's worker threads meet at a barrier inside every invoke; a decoder
    thread that preempts one of them stalls the whole invoke. Capture is light work and gets the
    gaps instead. Linux applies nice per thread; elsewhere this does nothing.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CAPTURE_NICENESS)
