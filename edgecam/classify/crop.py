"""The crop a classifier sees: the track's box, squared with a margin, resized to its input."""

from __future__ import annotations

from edgecam.types import Box, Image


def square_region(box: Box, width: int, height: int, margin: float) -> tuple[int, int, int]:
    """Pixel ``(x0, y0, side)`` of a square around ``box`` (normalised), grown by ``margin`` of
    its longer side on each side and moved inside the frame where it fits; where it is larger
    than the frame it sticks out (the caller pads), so the object is never cut."""
    bw, bh = (box[2] - box[0]) * width, (box[3] - box[1]) * height
    side = max(1, round(max(bw, bh) * (1.0 + 2.0 * margin)))
    cx, cy = (box[0] + box[2]) * 0.5 * width, (box[1] + box[3]) * 0.5 * height
    x0, y0 = round(cx - side * 0.5), round(cy - side * 0.5)
    if side <= width:
        x0 = min(max(x0, 0), width - side)
    if side <= height:
        y0 = min(max(y0, 0), height - side)
    return x0, y0, side


def box_pixels(box: Box, width: int, height: int) -> float:
    """The box's longer side in pixels (what ``min_box`` compares with)."""
    return max((box[2] - box[0]) * width, (box[3] - box[1]) * height)


def crop_rgb(image: Image, box: Box, size: tuple[int, int], margin: float) -> Image:
    """The square crop of a BGR frame around ``box``, resized to ``size`` and turned to RGB.

    A square larger than the frame is filled out by repeating the edge pixels: stretching
    instead would change the object's shape, which classifiers are sensitive to.
    """
    import cv2

    h, w = image.shape[:2]
    x0, y0, side = square_region(box, w, h, margin)
    left, top = max(0, x0), max(0, y0)
    right, bottom = min(w, x0 + side), min(h, y0 + side)
    region = image[top:bottom, left:right]
    if right - left < side or bottom - top < side:
        region = cv2.copyMakeBorder(  # type: ignore[assignment]
            region, top - y0, y0 + side - bottom, left - x0, x0 + side - right,
            cv2.BORDER_REPLICATE,
        )  # fmt: skip
    shrink = side > size[1]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    resized = cv2.resize(region, size, interpolation=interpolation)
    return cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)  # type: ignore[return-value]
