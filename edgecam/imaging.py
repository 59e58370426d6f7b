"""Images as frames: OpenCV's BGR arrays, and still-image files read into them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from edgecam.errors import CameraError
from edgecam.types import Image


def as_frame(image: Any) -> Image:
    """An OpenCV image as a frame: BGR passes through untouched, grey becomes BGR."""
    if image.ndim == 3:
        return cast(Image, image)
    import cv2

    return cast(Image, cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))


def read_image(path: Path) -> Image:
    """Read an image file as a BGR frame; a missing or unreadable file is a CameraError."""
    import cv2

    if not path.is_file():
        raise CameraError(f"image {path} not found; check the path")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise CameraError(f"cannot decode image {path}; use a JPEG, PNG, BMP or WebP file")
    return as_frame(bgr)
