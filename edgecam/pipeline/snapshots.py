"""Snapshots: which events get one, and drawing them on a thread of their own, off the hot path.

The detector thread only queues a job: drawing and JPEG-encoding a frame takes a few milliseconds,
tens of them for a full-size Pi camera frame, which would otherwise delay the next inference.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgecam.event import Event
from edgecam.jobs import JobThread
from edgecam.pipeline.annotate import render_snapshot
from edgecam.publish.base import TakesSnapshots
from edgecam.ratelimit import RateLimitedLog
from edgecam.types import Box, Frame, Image

if TYPE_CHECKING:
    from edgecam.config.models import CameraConfig
    from edgecam.rules.engine import RuleEngine

log = logging.getLogger(__name__)


def wants_snapshot(engine: RuleEngine, event: Event) -> bool:
    """True for alerts (not ``end``) of rules with ``snapshot: true``."""
    if event.type == "end":
        return False
    try:
        return engine.rule(event.camera, event.rule).config.snapshot
    except KeyError:
        return False


QUEUE_DEPTH = 8
"""Jobs waiting at most; past that the oldest is dropped."""


@dataclass(frozen=True, slots=True)
class SnapshotJob:
    """The alerts of one analysed frame that want a snapshot, and the sinks to hand them to."""

    frame: Frame
    events: Sequence[Event]
    boxes: Sequence[Box]
    camera: CameraConfig | None
    sinks: Sequence[TakesSnapshots]


class SnapshotWorker:
    """Renders snapshots on its own thread and hands the JPEGs to the sinks.

    ``full_frame(camera)`` gives the camera's full-size frame where it has one (the Pi camera's
    main stream, taken by its next capture), else ``None`` and the analysed frame is drawn; boxes
    are normalised, so they land in the same place at any size. When alerts come faster than
    they render, the oldest waiting job is dropped and counted: a snapshot shows a rule's latest
    alert, so the newest matters most.
    """

    def __init__(self, full_frame: Callable[[str], Image | None], depth: int = QUEUE_DEPTH) -> None:
        self._full_frame = full_frame
        self._jobs = JobThread("snapshots", self._handle, depth)
        self.rendered = 0
        self.dropped = 0
        self._noisy = RateLimitedLog(log)

    def submit(self, job: SnapshotJob) -> None:
        """Queue a job without waiting; starts the thread on first use."""
        if self._jobs.submit(job):
            self.dropped += 1  # the only writer: submit runs on the pipeline thread
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning(
                    "snapshots: %d dropped, alerts come faster than they render; set "
                    "snapshot: false on the busiest rules, or a cooldown", self.dropped,
                )  # fmt: skip

    def close(self, timeout: float = 10.0) -> None:
        """Render what is queued (for at most ``timeout`` seconds), then end the thread."""
        self._jobs.stop_taking()
        if not self._jobs.close(timeout):
            log.warning("snapshots: still rendering after %.0f s, leaving them", timeout)

    def _handle(self, job: SnapshotJob) -> None:
        try:
            self._render(job)
        except Exception as err:  # one bad frame or sink must not end the snapshots
            log.debug("snapshot traceback", exc_info=True)
            self._noisy.error("render", "snapshot of %s failed: %r", job.frame.camera, err)

    def _render(self, job: SnapshotJob) -> None:
        frame = job.frame
        image = self._full_frame(frame.camera)
        if image is None:
            image = frame.image
        for event in job.events:
            jpeg = render_snapshot(image, event, job.camera, boxes=job.boxes)
            self.rendered += 1
            for sink in job.sinks:
                try:
                    sink.snapshot(frame.camera, event.rule, jpeg)
                except Exception as err:  # the other sinks still get theirs
                    log.debug("snapshot sink traceback", exc_info=True)
                    self._noisy.error(
                        "sink", "snapshot sink %s failed: %r", type(sink).__name__, err
                    )
