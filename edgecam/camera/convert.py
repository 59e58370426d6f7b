"""Frames from OpenCV-based sources: OpenCV decodes BGR, which is the frame order already."""

from __future__ import annotations

from typing import Any, cast

from edgecam.types import Image


def as_frame(image: Any) -> Image:
    """An OpenCV image as a frame: BGR passes through untouched, grey becomes BGR."""
    if image.ndim == 3:
        return cast(Image, image)
    import cv2

    return cast(Image, cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
