"""The motion gate: decides cheaply whether a frame is worth a detector call.

A frame is shrunk to a small grayscale image and compared with a background that is learned slowly
(a running average), so lighting drifts are absorbed while a person walking in is not. The detector
runs when enough pixels changed, for ``hold`` seconds after that, and at least every
``max_interval`` seconds regardless, so a person standing still is still seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from edgecam.schema import Duration, Point, StrictModel
from edgecam.types import Box, Image


class MotionConfig(StrictModel):
    """Skip the detector on frames where nothing moved."""

    enabled: bool = False
    """Gate the detector on motion; off: every frame (up to ``fps``) is analysed."""
    max_interval: Duration = Field(default=5.0, gt=0.0)
    """Run the detector at least this often even without motion."""
    hold: Duration = Field(default=2.0, ge=0.0)
    """Keep detecting this long after motion stops, so tracks and rules see objects leave."""
    threshold: int = Field(default=20, ge=1, le=255)
    """Per-pixel brightness change (0-255) that counts as changed."""
    min_area: float = Field(default=0.003, gt=0.0, le=1.0)
    """Fraction of the (unmasked) frame that must change to count as motion."""
    learning_rate: float = Field(default=0.05, gt=0.0, le=1.0)
    """How fast the background follows the scene (per analysed frame); higher forgets sooner."""
    width: int = Field(default=160, ge=16, le=640)
    """Width the frame is shrunk to before comparing; smaller is cheaper and ignores noise."""
    mask: list[list[Point]] = Field(default_factory=list)
    """Polygons (normalised ``[x, y]`` points) where motion is ignored: trees, roads, clocks."""


@dataclass(slots=True)
class MotionStats:
    """Counters of one gate, for stats."""

    frames: int = 0
    motion: int = 0
    passed: int = 0
    last_changed: float = 0.0
    """Fraction of unmasked pixels that changed in the last frame."""


class MotionGate:
    """Per-camera state: the learned background and when the detector last ran."""

    def __init__(self, config: MotionConfig) -> None:
        self.config = config
        self.stats = MotionStats()
        self._background: NDArray[np.float32] | None = None
        self._keep: NDArray[np.uint8] | None = None
        self._keep_count = 0
        self._shape: tuple[int, int] = (0, 0)
        self._last_detect = float("-inf")
        self._last_motion = float("-inf")
        self._moving: NDArray[np.uint8] | None = None

    def should_detect(self, image: Image, now: float) -> bool:
        """True if ``image`` (BGR) shows motion, follows motion within ``hold``, or is due."""
        stats = self.stats
        stats.frames += 1
        moved = self.changed(image) >= self.config.min_area
        if moved:
            stats.motion += 1
            self._last_motion = now
        due = now - self._last_detect >= self.config.max_interval
        go = moved or due or now - self._last_motion <= self.config.hold
        if go:
            stats.passed += 1
            self._last_detect = now
        return go

    def changed(self, image: Image) -> float:
        """Fraction of unmasked pixels that differ from the background; then learn the frame."""
        import cv2

        small = self._small_gray(image)
        if self._background is None:
            self._background = small.astype(np.float32)
            self.stats.last_changed = 0.0
            return 0.0
        background = self._background
        diff = cv2.absdiff(small, cv2.convertScaleAbs(background))
        _, moving = cv2.threshold(diff, self.config.threshold, 255, cv2.THRESH_BINARY)
        if self._keep is not None:
            cv2.bitwise_and(moving, self._keep, dst=moving)
        fraction = cv2.countNonZero(moving) / max(1, self._keep_count)
        self._moving = cast(NDArray[np.uint8], moving)
        cv2.accumulateWeighted(small, background, self.config.learning_rate)
        self.stats.last_changed = fraction
        return fraction

    def moving_boxes(self, min_pixels: int = 2) -> list[Box]:
        """Boxes (normalised) around the areas that changed in the last frame, for regions."""
        import cv2

        moving = self._moving
        if moving is None:
            return []
        count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        h, w = moving.shape[:2]
        return [
            (x / w, y / h, (x + bw) / w, (y + bh) / h)
            for x, y, bw, bh, area in stats[1:count].tolist()
            if area >= min_pixels
        ]

    def _small_gray(self, image: Image) -> NDArray[np.uint8]:
        import cv2

        h, w = image.shape[:2]
        if (w, h) != self._shape:
            self._resize_state(w, h)
        width = self.config.width
        height = max(1, round(h * width / w))
        # Shrink first, convert second: the colour conversion then touches few pixels. Bilinear
        # is a tenth of the cost of INTER_AREA here; the blur below absorbs its aliasing.
        small = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        # A light blur keeps sensor noise and compression blocks from counting as motion.
        return cast(NDArray[np.uint8], cv2.GaussianBlur(gray, (3, 3), 0))

    def _resize_state(self, w: int, h: int) -> None:
        """A new frame size: forget the background and rasterise the mask for it."""
        width = self.config.width
        height = max(1, round(h * width / w))
        self._shape = (w, h)
        self._background = None
        self._keep = mask_image(self.config.mask, width, height)
        self._keep_count = (
            int(np.count_nonzero(self._keep)) if self._keep is not None else width * height
        )


def mask_image(polygons: list[list[Point]], width: int, height: int) -> NDArray[np.uint8] | None:
    """255 where motion counts, 0 inside the mask polygons; ``None`` when there is no mask."""
    import cv2

    if not polygons:
        return None
    keep = np.full((height, width), 255, np.uint8)
    for polygon in polygons:
        points = np.array([(x * width, y * height) for x, y in polygon], np.float32)
        cv2.fillPoly(keep, [np.round(points).astype(np.int32)], 0)
    return keep
