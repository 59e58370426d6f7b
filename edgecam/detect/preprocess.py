"""Fit a frame into the model input tensor (stretch or letterbox) and map boxes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from edgecam.types import Box, Image

ResizeMode = Literal["stretch", "letterbox"]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a frame lands in the model input, as fractions of the input's width and height."""

    x0: float
    y0: float
    width: float
    height: float
    pixels: tuple[int, int, int, int]
    """``(x, y, w, h)`` of the frame inside the input tensor, in input pixels."""

    def to_frame(self, box: Box) -> Box:
        """Map a box normalised to the model input onto the frame, clipped to [0, 1]."""
        xmin, ymin, xmax, ymax = box
        return (
            min(max((xmin - self.x0) / self.width, 0.0), 1.0),
            min(max((ymin - self.y0) / self.height, 0.0), 1.0),
            min(max((xmax - self.x0) / self.width, 0.0), 1.0),
            min(max((ymax - self.y0) / self.height, 0.0), 1.0),
        )


def place(frame_w: int, frame_h: int, in_w: int, in_h: int, mode: ResizeMode) -> Placement:
    """The placement of a ``frame_w`` x ``frame_h`` frame in an ``in_w`` x ``in_h`` input."""
    if mode == "stretch":
        return Placement(0.0, 0.0, 1.0, 1.0, (0, 0, in_w, in_h))
    scale = min(in_w / frame_w, in_h / frame_h)
    w = max(1, min(in_w, round(frame_w * scale)))
    h = max(1, min(in_h, round(frame_h * scale)))
    x, y = (in_w - w) // 2, (in_h - h) // 2
    return Placement(x / in_w, y / in_h, w / in_w, h / in_h, (x, y, w, h))


def fill_input(image: Image, target: Image, placement: Placement, scratch: Image) -> None:
    """Fit the BGR ``image`` into ``target`` (an H x W x 3 uint8 view of the RGB input tensor).

    The frame is resized into ``scratch`` (the frame's size inside the input, BGR) and only the
    small result has its channels swapped, straight into the tensor: no full-size conversion.
    Letterbox puts it in the middle of a black tensor.
    """
    import cv2

    x, y, w, h = placement.pixels
    if image.shape[1::-1] == (w, h):
        scratch = image  # already the input's size (a Pi camera's lores stream): no resize
    else:
        cv2.resize(image, (w, h), dst=scratch, interpolation=cv2.INTER_LINEAR)
    if (w, h) == target.shape[1::-1]:
        out = cv2.cvtColor(scratch, cv2.COLOR_BGR2RGB, dst=target)
        if out is not target and not np.shares_memory(out, target):
            target[...] = out  # OpenCV reallocated: keep the result anyway
        return
    target.fill(0)
    target[y : y + h, x : x + w] = scratch[..., ::-1]


def make_scratch(placement: Placement) -> Image:
    """The buffer :func:`fill_input` resizes into for this placement."""
    _, _, w, h = placement.pixels
    return np.empty((h, w, 3), np.uint8)


class InputFitter:
    """Fits frames to one model input size; each capture thread owns its own fitter.

    Used on the capture thread, so that the detector thread, which runs between invokes while
    the inference threads wait, only copies a model-sized image into the input tensor.
    """

    def __init__(self, width: int, height: int, mode: ResizeMode) -> None:
        self.width, self.height, self.mode = width, height, mode
        self._key = (0, 0)
        self._placement = place(1, 1, width, height, mode)
        self._scratch = make_scratch(self._placement)

    def __call__(self, image: Image) -> Image:
        """A new ``height`` x ``width`` x 3 RGB image: the BGR frame stretched or letterboxed."""
        h, w = image.shape[:2]
        if (w, h) != self._key:
            self._placement = place(w, h, self.width, self.height, self.mode)
            self._scratch = make_scratch(self._placement)
            self._key = (w, h)
        out: Image = np.empty((self.height, self.width, 3), np.uint8)
        fill_input(image, out, self._placement, self._scratch)
        return out
