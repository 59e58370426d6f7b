"""Plain values that flow through the pipeline: frames and detections (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Box = tuple[float, float, float, float]
"""``(xmin, ymin, xmax, ymax)`` normalised to the frame, each in [0, 1]."""

Image = NDArray[np.uint8]
"""A BGR uint8 image, H x W x 3: OpenCV's channel order, and picamera2's ``RGB888``.

Frames stay in the order cameras and OpenCV deliver, so no frame is converted whole: the
detector swaps channels only on the model-sized input, and snapshots encode the frame as it is.
"""


@dataclass(frozen=True, slots=True)
class Crops:
    """Squares cut from a full-resolution stream at capture time, each already scaled down.

    Only these parts of the large frame were ever read: the request buffer went back to the
    camera as soon as they were copied.
    """

    regions: tuple[Box, ...]
    """Where each crop lies, normalised to the frame (the same for every stream of the camera)."""
    images: tuple[Image, ...]
    """The crops (BGR), scaled to the model's input size."""
    full_frame: bool
    """Whether the whole (analysed) frame is to be detected as well."""


@dataclass(frozen=True, slots=True)
class Views:
    """Parts of a camera's full-resolution stream cut at capture for the classifiers.

    Each view is a rectangle of the stream around a track that awaits a crop, scaled so the
    classifier's square is no larger than it needs; the request buffer went back at once.
    """

    size: tuple[int, int]
    """``(width, height)`` of the full-resolution stream (what ``min_box`` counts)."""
    rects: tuple[tuple[int, int, int, int], ...]
    """Each view's ``(x0, y0, x1, y1)`` in pixels of that stream."""
    images: tuple[Image, ...]
    """The views (BGR), each the whole of its rect, scaled down alike in both directions."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame: BGR pixels plus where and when it came from."""

    image: Image
    seq: int
    mono: float
    """The frame's time in seconds, for every duration downstream: ``time.monotonic()`` at
    capture for a live camera, the video's own time for a recording (docs/architecture.md)."""
    wall: float
    """Wall-clock time (seconds since the epoch, UTC): ``time.time()`` at capture for a live
    camera, the recording's start plus its video time for a recording."""
    camera: str
    model_input: Image | None = None
    """The frame already fitted to the detector's input (size and RGB order), made on the capture
    thread so the detector only copies it; None when the capture side does not know the detector."""
    crops: Crops | None = None
    """Regions cut at capture from the camera's full-resolution stream (a Pi camera's ``main``),
    when the region planner asked for them; None: regions, if any, are cut from ``image``."""
    detections: tuple[Detection, ...] | None = None
    """What the camera detected on its own sensor (the AI Camera), before the model's threshold;
    None: the detector runs on the frame."""
    views: Views | None = None
    """Classifier views cut at capture from the full-resolution stream (a Pi camera with a
    classifier): crops come only from them; None: crops are cut from ``image``."""

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        h, w = self.image.shape[:2]
        return w, h


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected object; ``box`` is normalised ``(xmin, ymin, xmax, ymax)``."""

    label: str
    class_id: int
    score: float
    box: Box

    @property
    def area(self) -> float:
        """Area of the box as a fraction of the frame."""
        return max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1])

    def to_json(self) -> dict[str, object]:
        """The JSON form used by ``edgecam detect`` and in events."""
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "box": [round(v, 4) for v in self.box],
        }
