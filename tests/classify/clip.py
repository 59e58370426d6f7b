"""A clip made at test time: the two bird photos in turn, moving across a plain background."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgecam.imaging import read_image
from tests.helpers import DATA

SIZE = (480, 360)
FPS = 10.0
BIRDS = (("bird.bmp", "Black-capped Chickadee"), ("parrot.jpg", "Scarlet Macaw"))
"""The photos in clip order, with the species the birds classifier names."""


def _background() -> np.ndarray:
    """A soft vertical gradient (sky to grass), nothing a detector would call an object."""
    w, h = SIZE
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top, bottom = np.array([200, 180, 150], np.float32), np.array([90, 140, 100], np.float32)
    return np.broadcast_to(top + (bottom - top) * ramp, (h, w, 3)).astype(np.uint8).copy()


def make_bird_clip(path: Path, seconds: float = 2.5, gap: float = 2.5) -> Path:
    """Write the clip (MJPG .avi): each bird glides left to right for ``seconds``, with
    ``gap`` seconds of empty background before, between and after (longer than the tracker's
    ``max_age``, so the second bird is a new track)."""
    w, h = SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, SIZE)
    background = _background()
    empty = round(gap * FPS)
    for _ in range(empty):
        writer.write(background)
    for name, _ in BIRDS:
        original = read_image(DATA / name)
        scale = min(w * 0.6 / original.shape[1], h * 0.9 / original.shape[0])
        pw, ph = round(original.shape[1] * scale), round(original.shape[0] * scale)
        photo = cv2.resize(original, (pw, ph), interpolation=cv2.INTER_AREA)
        steps = round(seconds * FPS)
        y = (h - ph) // 2
        for i in range(steps):
            x = round((w - pw) * i / max(steps - 1, 1) * 0.6 + (w - pw) * 0.2)
            frame = background.copy()
            frame[y : y + ph, x : x + pw] = photo
            writer.write(frame)
        for _ in range(empty):
            writer.write(background)
    writer.release()
    return path
