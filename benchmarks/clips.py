"""Frame sequences for benchmarks and tests, built from the bundled demo clip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np

from edgecam import bundled
from edgecam.types import Image


def read_clip(path: Path | None = None, step: int = 1, limit: int | None = None) -> list[Image]:
    """Every ``step``-th frame of a video as BGR frames (the demo clip by default)."""
    import cv2

    cap = cv2.VideoCapture(str(path or bundled.demo_clip()))
    frames: list[Image] = []
    index = 0
    try:
        while limit is None or len(frames) < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(cast(Image, bgr))
            index += 1
    finally:
        cap.release()
    return frames


# Where two people stand still through the whole demo clip (normalised xmin, ymin, xmax, ymax):
# the median keeps them, so they are painted over.
STANDING = (0.47, 0.30, 0.60, 0.47)


def empty_scene(frames: list[Image]) -> Image:
    """The plaza without people: the per-pixel median over time, the standing pair painted out."""
    import cv2

    median = np.median(np.stack(frames), axis=0).astype(np.uint8)
    h, w = median.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = STANDING
    mask[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)] = 255
    return cast(Image, cv2.inpaint(median, mask, 5, cv2.INPAINT_TELEA))


def static_then_people(still: int, moving: int, step: int = 2) -> Iterator[Image]:
    """``still`` copies of the empty plaza (a still camera, nothing moving), then the clip."""
    clip = read_clip(step=step, limit=moving)
    background = empty_scene(clip)
    for _ in range(still):
        yield background.copy()
    yield from clip
