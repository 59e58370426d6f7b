"""Colour conversion shared by the OpenCV-based sources: OpenCV decodes BGR, frames are RGB."""

from __future__ import annotations

from typing import Any, cast

from edgecam.types import Image


def bgr_to_rgb(bgr: Any) -> Image:
    """An OpenCV BGR (or grey) image as RGB; a 3-channel image is converted in place."""
    import cv2

    if bgr.ndim == 2:
        return cast(Image, cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB))
    cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)
    return cast(Image, bgr)
