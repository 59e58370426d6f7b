"""One camera of the pipeline: its source, capture thread, slot, motion gate and counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgecam.camera.capture import CaptureThread, ReconnectPolicy
from edgecam.camera.motion import MotionGate
from edgecam.camera.slot import LatestFrameSlot
from edgecam.camera.sources import create_source
from edgecam.config.models import CameraConfig
from edgecam.detect.regions import RegionPlanner
from edgecam.types import Detection, Frame, Image


@dataclass(slots=True)
class CameraState:
    """Per-camera bookkeeping of the detection loop."""

    name: str
    slot: LatestFrameSlot
    capture: CaptureThread
    min_interval: float
    motion: MotionGate | None = None
    detect_enabled: bool = True
    last_analysed: float = float("-inf")
    last_frame: Frame | None = None
    last_detections: Sequence[Detection] = ()
    last_regions: Sequence[tuple[int, int, int, int]] = ()
    """The regions (frame pixels) the detector ran on for the last frame; () for the whole."""
    analysed: int = 0
    skipped: int = 0
    """Frames taken but not analysed: over the fps cap or detection paused."""
    still: int = 0
    """Frames the motion gate kept from the detector."""
    regions: RegionPlanner | None = None
    """Detection on regions (``regions:``), unless off."""
    fitted_from: int = 0
    """First frame number fitted to the current detector's input (a reload may change it)."""

    def stats(self) -> dict[str, object]:
        """The camera's part of the stats payload: counters, capture status and motion."""
        stats: dict[str, object] = {
            "analysed": self.analysed,
            "dropped": self.slot.dropped,
            "skipped": self.skipped,
            "detect": self.detect_enabled,
            **self.capture.health(time.monotonic()),
        }
        if self.motion is not None:
            stats["motion_skipped"] = self.still
            stats["motion_frames"] = self.motion.stats.motion
        return stats


def build_camera(
    name: str,
    config: CameraConfig,
    ready: threading.Event,
    fit: Callable[[Image], Image] | None,
) -> CameraState:
    """A camera ready to start: its source is created but not opened, its thread not started."""
    source = create_source(name, config.source)
    lossless = getattr(config.source, "pace", None) == "every"
    slot = LatestFrameSlot(lossless=lossless)
    policy = ReconnectPolicy(stall_timeout=config.stall_timeout, max_backoff=config.max_backoff)
    capture = CaptureThread(source, slot, threading.Event(), ready, policy=policy, fit=fit)
    interval = 1.0 / config.fps if config.fps else 0.0
    gate = MotionGate(config.motion) if config.motion.enabled else None
    return CameraState(name, slot, capture, interval, gate)


def capture_settings(config: CameraConfig) -> dict[str, object]:
    """The parts of a camera's config that its capture side uses: a change needs a new capture.

    The rest (fps, zones, lines, masks, tracker) is applied in place.
    """
    return config.model_dump(
        include={"source", "motion", "regions", "stall_timeout", "max_backoff"}
    )
