"""One camera of the pipeline: its source, capture thread, slot, motion gate and counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgecam.camera.base import FullFrameSource, ModelAwareSource, ViewSource
from edgecam.camera.capture import CaptureThread, ReconnectPolicy
from edgecam.camera.motion import MotionGate
from edgecam.camera.slot import LatestFrameSlot
from edgecam.camera.sources import create_source
from edgecam.classify.views import Wanted, plan_views
from edgecam.clips.recorder import CameraClips, ClipRecorder
from edgecam.config.models import CameraConfig, Config
from edgecam.detect.config import ModelConfig
from edgecam.detect.regions import RegionPlanner, main_stream_plan
from edgecam.detect.sensor import SensorDetections
from edgecam.types import Box, Detection, Frame, Image


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
    promised: float = float("-inf")
    """Capture time of the last frame :meth:`wants` let through (the capture thread's)."""
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
    main_regions: bool = False
    """Region crops are cut at capture from the camera's full-resolution stream (Pi camera)."""
    interest: tuple[Box, ...] = ()
    """Tracks and motion after the last analysed frame: where the next crops go."""
    views: bool = False
    """Classifier crops are cut at capture from the camera's full-resolution stream (Pi camera)."""
    view_wants: tuple[Wanted, ...] = ()
    """Tracks that may get a classifier crop on the next frame: where the next views go."""
    sensor: SensorDetections | None = None
    """The camera detects on its own sensor (the AI Camera); the detector never runs for it."""
    invokes: int = 0
    """Inferences the detector ran for this camera's frames (regions count one each)."""

    def wants(self, mono: float) -> bool:
        """Whether the loop would take a frame captured at ``mono`` (asked on the capture thread).

        The frames it would skip (over the ``fps`` cap, detection paused) are then not converted
        or fitted at all. The motion gate, the live view and the clip ring see no difference: the
        gate and the live view get only frames the loop takes, the ring gets packets.
        """
        if not self.detect_enabled:
            return False
        # Without a motion gate a frame wanted now is analysed for sure, even if the loop has not
        # taken it yet (it is busy, or a recording's queue holds it): the next is due after it.
        last = self.last_analysed if self.motion is not None else max(
            self.last_analysed, self.promised
        )  # fmt: skip
        if mono - last < self.min_interval:
            return False
        self.promised = mono
        return True

    def stats(self) -> dict[str, object]:
        """The camera's part of the stats payload: counters, capture status and motion."""
        stats: dict[str, object] = {
            "analysed": self.analysed,
            "dropped": self.slot.dropped,
            "skipped": self.skipped,
            "detect": self.detect_enabled,
            "invokes": self.invokes,
            **self.capture.health(time.monotonic()),
        }
        if self.sensor is not None:
            stats["sensor_frames"] = self.sensor.frames
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
    cam = CameraState(name, slot, capture, interval, gate)
    capture.wanted = cam.wants
    return cam


def wire_model_aware(
    cam: CameraState, source: ModelAwareSource, model: ModelConfig, size: tuple[int, int]
) -> None:
    """A Pi camera: lores at the model's input, crops from main, or detection on the sensor."""
    source.fit_to(size, model.resize == "letterbox")
    if source.detects_on_sensor:
        cam.capture.fit = None  # its frames never reach the detector
        cam.regions = None
        ai_camera = getattr(getattr(source, "config", None), "ai_camera", None)
        cam.sensor = SensorDetections(model, getattr(ai_camera, "labels", None))
        return
    if cam.regions is not None:
        # Unset, the region size is the main stream's own (regions there are for far objects);
        # an object larger than a region gets a larger square, as lores is too coarse for it.
        config = cam.regions.config.for_main_stream()
        cam.regions = RegionPlanner(config, cam.regions.model, grow=True)
        source.cut_regions(main_stream_plan(cam.regions, lambda: cam.interest), min(size))
        cam.main_regions = True


def wire_views(cam: CameraState) -> None:
    """A camera with a full-resolution stream cuts classifier crops from it at capture."""
    if isinstance(source := cam.capture.source, ViewSource):
        source.cut_views(plan_views(lambda: cam.view_wants))
        cam.views = True


def capture_settings(config: CameraConfig) -> dict[str, object]:
    """The parts of a camera's config that its capture side uses: a change needs a new capture.

    The rest (fps, zones, lines, masks, tracker) is applied in place.
    """
    return config.model_dump(
        include={"source", "motion", "regions", "stall_timeout", "max_backoff"}
    )


def full_frame(cameras: Sequence[CameraState], camera: str, wait: float) -> Image | None:
    """``camera``'s next full-size frame, where its source has one (for a snapshot)."""
    for cam in cameras:
        source = cam.capture.source
        if cam.name == camera and isinstance(source, FullFrameSource):
            return source.snapshot(wait) if cam.capture.is_alive() else None
    return None


def settle_opencv(quiet: bool) -> None:
    """OpenCV set up for capture threads beside inference (before the cameras open)."""
    import cv2

    # OpenCV's own thread pool would compete with the inference threads for the same cores;
    # its per-frame work (colour conversion, one resize) is small enough for one thread.
    cv2.setNumThreads(1)
    if quiet:
        # OpenCV's own warnings (e.g. "can't be used to capture by name" for a stream that is
        # down) mislead next to edgecam's message, which names the camera and the fix.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def retire_clips(clips: ClipRecorder | None, gone: Sequence[CameraState], config: Config) -> None:
    """Clips recording from detached cameras end now, cut short, and are written."""
    if clips is not None:
        for cam in gone:
            why = "restarted" if cam.name in config.cameras else "removed"
            clips.retire(cam.name, f"camera {why} by a reload")


def attach_clips(clips: ClipRecorder | None, cameras: Sequence[CameraState]) -> None:
    """The cameras' clip rings take their events from now on (pipeline thread)."""
    if clips is not None:
        for cam in cameras:
            if isinstance(tap := cam.capture.tap, CameraClips):
                clips.attach(tap)
