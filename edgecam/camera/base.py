"""The frame-source interface every camera backend implements."""

from __future__ import annotations

from typing import Protocol

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
