"""The frame-source interface every camera backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from edgecam.types import Image


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
