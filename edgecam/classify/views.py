"""Classifier crops from a camera's full-resolution stream (a Pi camera's ``main``; pure).

The pipeline says which tracks await a crop (:meth:`ClassifyStage.wanted`); the capture thread
cuts, from the next frame's main stream, a rectangle around each one's square (the classifier's
margin, plus slack for the object's move in one frame), scaled so the square is no larger than
the classifier's input. The stage then crops the track's box of that same frame from its view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from edgecam.camera.base import Rect, ViewPlan
from edgecam.classify.crop import square_region
from edgecam.types import Box, Image, Views

SLACK = 0.25
"""Of the square's side, added on each side of a view: the object moves between two frames."""

Wanted = tuple[Box, float, int]
"""A track awaiting a crop: its box, the classifier's margin, and its input's side in pixels."""


def view_rect(box: Box, margin: float, side: int, size: tuple[int, int]) -> tuple[Rect, float]:
    """The view to cut around ``box`` from a stream of ``size``, and its scale: ``1 / k`` for
    the whole ``k`` that keeps the square at least ``side`` pixels, the rect's sides multiples
    of ``k`` (an exact ``k``:1 area reduction is OpenCV's fast path; the worker does the rest)."""
    width, height = size
    x0, y0, square = square_region(box, width, height, margin)
    grow = round(square * SLACK)
    left, top = max(0, x0 - grow), max(0, y0 - grow)
    right, bottom = min(width, x0 + square + grow), min(height, y0 + square + grow)
    k = max(1, square // side)
    right -= (right - left) % k
    bottom -= (bottom - top) % k
    return (left, top, right, bottom), 1.0 / k


def plan_views(wanted: Callable[[], Sequence[Wanted]]) -> ViewPlan:
    """The capture thread's plan: a view around each track the pipeline last left wanting."""

    def plan(size: tuple[int, int]) -> Sequence[tuple[Rect, float]]:
        tracks = wanted()
        if not tracks:
            return ()
        return tuple(view_rect(box, margin, side, size) for box, margin, side in tracks)

    return plan


def view_crop(views: Views, box: Box, margin: float) -> tuple[Image, Box] | None:
    """The view holding ``box``'s square and the box in its coordinates; None: no view does
    (the track is new, or moved too far since the plan; a later frame will have one)."""
    width, height = views.size
    x0, y0, side = square_region(box, width, height, margin)
    left, top = max(0, x0), max(0, y0)
    right, bottom = min(width, x0 + side), min(height, y0 + side)
    for (rx0, ry0, rx1, ry1), image in zip(views.rects, views.images, strict=True):
        if rx0 <= left and ry0 <= top and right <= rx1 and bottom <= ry1:
            rw, rh = rx1 - rx0, ry1 - ry0
            inside = (
                (box[0] * width - rx0) / rw,
                (box[1] * height - ry0) / rh,
                (box[2] * width - rx0) / rw,
                (box[3] * height - ry0) / rh,
            )
            return image, inside
    return None
