"""What the web server sees of the running service: a small read-only interface."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from edgecam.config.models import Config
from edgecam.types import Box, Detection, Image


@dataclass(frozen=True, slots=True)
class TrackBox:
    """A confirmed track as drawn on the live view."""

    id: int
    label: str
    box: Box
    sub_label: str | None = None
    """What a classifier named it (a species), once it is sure."""


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """A camera's latest analysed frame with what was found on it."""

    image: Image
    seq: int
    wall: float
    detections: Sequence[Detection]
    tracks: Sequence[TrackBox] = ()
    regions: Sequence[tuple[int, int, int, int]] = ()
    """The regions (pixels) detection ran on; () when it ran on the whole frame."""
    motion: Callable[[], Sequence[Box]] | None = None
    """The moving areas (normalised boxes), worked out only when a viewer asks to see them."""


class ServiceView(Protocol):
    """The running service as the web server shows it; every method is safe from any thread."""

    def health(self) -> tuple[bool, str]:
        """``(healthy, reason)``; the reason says what is wrong, or ``ok``."""
        ...

    def camera_status(self) -> dict[str, str]:
        """Each camera's capture status (``running``, ``reconnecting``, ``ended``, ...)."""
        ...

    def latest_frame(self, camera: str) -> LiveFrame | None:
        """The latest analysed frame of ``camera``, None before the first; KeyError if unknown."""
        ...

    def cameras(self) -> dict[str, dict[str, object]]:
        """Per camera: status, fps, frames analysed and dropped, the detector in use."""
        ...

    def detector(self) -> dict[str, object]:
        """The detector in use: device, runtime, model and its known-answer check."""
        ...

    def rules(self) -> list[dict[str, object]]:
        """Every rule on every camera: its kind, state (ON/OFF) and count where it has them."""
        ...

    def config(self) -> Config:
        """The config the service runs now."""
        ...
