"""The frame-source interface every camera backend implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from edgecam.types import Crops, Detection, Image, Views


class FrameSource(Protocol):
    """A camera, stream or file that yields BGR frames.

    ``read`` blocks until the next frame and returns a fresh array the caller may keep (the capture
    loop hands it to another thread), or ``None`` when the source has ended for good.
    """

    name: str

    @property
    def nominal_fps(self) -> float | None:
        """Frames per second the source delivers by itself, if known."""

    def open(self) -> None:
        """Acquire the device or file; raise :class:`~edgecam.errors.CameraError` on failure."""

    def read(self) -> Image | None:
        """The next BGR frame, or ``None`` at the end of the stream."""

    def close(self) -> None:
        """Release the device; safe to call twice."""


@runtime_checkable
class FullFrameSource(Protocol):
    """A source that analyses a small stream and can also give a full-size frame (picamera2).

    Snapshots use the full-size frame, so an event's JPEG has the camera's resolution, not the
    detector's.
    """

    def snapshot(self, timeout: float = 2.0) -> Image | None:
        """The next full-size BGR frame, or ``None`` if none came within ``timeout`` seconds."""


@runtime_checkable
class RecordedSource(Protocol):
    """A recording (a video file, still images): its frames carry their own time.

    The capture loop stamps each frame with ``frame_time`` (seconds since the first frame, read
    right after ``read``) and ``start_wall + frame_time`` as its wall-clock time, so a clip gives
    the same events however fast it is decoded (docs/architecture.md, Types).
    """

    start_wall: float
    """Wall-clock time (seconds since the epoch) of the first frame."""
    frame_time: float
    """Video time of the frame last read, in seconds since the first frame."""


Rect = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in pixels of a stream, ``x1``/``y1`` exclusive."""

RegionPlan = Callable[[tuple[int, int]], tuple[tuple[Rect, ...], bool] | None]
"""Given the full-resolution stream's ``(width, height)``: the squares to cut from it and whether
the whole analysed frame is detected too; None: no regions for this frame."""


ViewPlan = Callable[[tuple[int, int]], Sequence[tuple[Rect, float]]]
"""Given the full-resolution stream's ``(width, height)``: the rects to cut for the classifiers,
each with its scale (at most 1); empty: none for this frame (nothing is read)."""


@runtime_checkable
class ViewSource(Protocol):
    """A source that cuts classifier views from its full-resolution stream (the Pi camera)."""

    def cut_views(self, plan: ViewPlan | None) -> None:
        """From the next read on, cut the views ``plan`` asks for (None: stop)."""
        ...

    def frame_views(self) -> Views | None:
        """The views of the frame last read (None: the source cuts none)."""
        ...


@runtime_checkable
class ExtrasSource(Protocol):
    """A source that hands more than pixels with each frame (crops, the sensor's detections)."""

    def frame_extras(self) -> tuple[Crops | None, tuple[Detection, ...] | None]:
        """The crops and on-sensor detections of the frame last read (None: none)."""
        ...


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """When a live source counts as stalled and how long to wait between reopen attempts."""

    stall_timeout: float = 10.0
    initial_backoff: float = 0.5
    max_backoff: float = 30.0


def backoff_delay(attempt: int, policy: ReconnectPolicy) -> float:
    """Seconds to wait before reopen attempt ``attempt`` (1, 2, ...): doubling, capped."""
    return min(policy.max_backoff, policy.initial_backoff * 2.0 ** max(0, attempt - 1))


@runtime_checkable
class TwoStreamSource(Protocol):
    """A camera with a second stream kept for clips (``record``), demuxed on its own thread.

    Both streams are one camera: it follows the camera's reconnect policy, and its state is part
    of the camera's health (a failed record stream makes the camera ``degraded``).
    """

    def follow_policy(self, policy: ReconnectPolicy) -> None:
        """Reopen the record stream by the camera's policy."""

    def record_health(self, now: float) -> dict[str, object] | None:
        """The record stream's state and counters; None when the camera has none running."""
        ...


@runtime_checkable
class ModelAwareSource(Protocol):
    """A source that can deliver frames at the model's input size and cut regions itself.

    The Pi camera: its ISP scales the analysed stream to the model's input, and region crops
    come from its full-resolution main stream.
    """

    def fit_to(self, model: tuple[int, int], keep_aspect: bool) -> None:
        """Deliver analysed frames at ``model`` (``(width, height)``) from the next open on."""
        ...

    def cut_regions(self, plan: RegionPlan | None, side: int) -> None:
        """Cut the squares ``plan`` asks for from the full-resolution stream, scaled to ``side``."""
        ...

    @property
    def detects_on_sensor(self) -> bool:
        """Whether the camera detects by itself (then the detector never sees its frames)."""
        ...


@runtime_checkable
class CountsDecodes(Protocol):
    """A source that counts the frames its decoder produced (``edgecam_frames_decoded``)."""

    decoded: int


@runtime_checkable
class GrabbingSource(Protocol):
    """A source whose read is two steps: decode the next frame, then convert it to BGR.

    The capture thread decodes every frame (a compressed stream's frames depend on each other)
    but converts, and fits, only the frames the detector may take: at a low ``fps`` cap most
    are never converted (``unconverted`` in the camera's stats).
    """

    def grab(self) -> bool:
        """Decode the next frame without converting it; False at the end of a file."""
        ...

    def retrieve(self) -> Image:
        """The frame last grabbed, as a fresh BGR array."""
        ...
