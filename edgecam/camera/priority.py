"""Capture threads run at a lower priority than inference: below the detector, never starved."""

from __future__ import annotations

import functools
import logging
import os
import threading

from edgecam.camera.base import FrameSource

log = logging.getLogger(__name__)

CAPTURE_NICENESS = 5
"""Niceness of a capture thread: below the inference threads, never starved by other load."""
UNPACED_NICENESS = 10
"""Niceness of a file read as fast as it decodes (``pace: fast``): it would take a core."""


def capture_niceness(source: FrameSource) -> int:
    """The niceness the capture thread of ``source`` runs at."""
    return UNPACED_NICENESS if getattr(source, "unpaced", False) else CAPTURE_NICENESS


def lower_priority(niceness: int) -> None:
    """Make the calling capture thread yield to the inference threads when cores are scarce.

    On a CPU-bound Pi, TFLite's worker threads meet at a barrier inside every invoke; a decoder
    thread that preempts one of them stalls the whole invoke, so capture runs at a lower
    priority (a positive niceness). Not at ``SCHED_IDLE``: a thread there runs only on a core
    that would otherwise idle, so any other load on the machine starves it, and with it a
    camera, or a recording analysed frame by frame. Linux sets niceness per thread; elsewhere
    this does nothing.
    """
    if not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError as err:
        _priority_warning(err.strerror or str(err))


@functools.cache
def _priority_warning(reason: str) -> None:
    """Say once per process (not per camera and reopen) that capture keeps its full priority."""
    log.warning(
        "cannot lower the capture threads' priority (%s), so capture competes with inference for "
        "the cores; under systemd the unit must allow it (SystemCallFilter=setpriority, as "
        "systemd/edgecam.service does)",
        reason,
    )
