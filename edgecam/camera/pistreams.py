"""Pixel work on a Pi camera's streams (pure): the analysed stream and crops of the main stream.

Both read the request's buffers in place (picamera2's ``MappedArray``): the lores image is
converted into a new small frame, and of the main stream only the planned squares are read, each
scaled down into a new model-sized image. The whole main frame is never copied or converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from edgecam.camera.base import Rect
from edgecam.types import Crops, Image, Views

Size = tuple[int, int]


def lores_to_bgr(yuv: Image, width: int, height: int) -> Image:
    """Convert a picamera2 YUV420 array (``height*3/2`` rows of stride bytes) to a BGR frame."""
    import cv2

    bgr = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)
    if bgr.shape[1] != width or bgr.shape[0] != height:
        # The stride can be wider than the image: drop the padding columns.
        bgr = np.ascontiguousarray(bgr[:height, :width])
    return cast(Image, bgr)


def bgr_copy(view: Image, width: int, height: int) -> Image:
    """A contiguous copy of an ``RGB888`` (B,G,R in memory) stream's mapped buffer."""
    return cast(Image, np.ascontiguousarray(view[:height, :width, :3]))


def even(value: float) -> int:
    """``value`` rounded to an even number of at least 16 (what libcamera's scalers take)."""
    return max(16, 2 * round(value / 2))


def lores_for(model: Size, main: Size, keep_aspect: bool) -> Size:
    """The analysed stream's size for a ``model`` input: the input itself (the ISP stretches the
    view, as the detector's ``stretch`` would), or with ``keep_aspect`` the largest size of the
    main stream's shape that fits inside it (letterbox)."""
    if not keep_aspect:
        return even(model[0]), even(model[1])
    scale = min(model[0] / main[0], model[1] / main[1])
    return even(main[0] * scale), even(main[1] * scale)


def cut_crops(main: Image, size: Size, rects: Sequence[Rect], side: int, full: bool) -> Crops:
    """The squares ``rects`` of the mapped main stream (``size`` = its width, height), each scaled
    to ``side`` x ``side`` BGR; only those pixels are read."""
    import cv2

    width, height = size
    images = []
    for x0, y0, x1, y1 in rects:
        part = main[y0:y1, x0:x1, :3]
        if part.shape[0] == side and part.shape[1] == side:
            images.append(cast(Image, np.ascontiguousarray(part)))
        else:
            scaled = cv2.resize(part, (side, side), interpolation=cv2.INTER_AREA)
            images.append(cast(Image, scaled))
    regions = tuple((x0 / width, y0 / height, x1 / width, y1 / height) for x0, y0, x1, y1 in rects)
    return Crops(regions, tuple(images), full)


def cut_views(main: Image, size: Size, planned: Sequence[tuple[Rect, float]]) -> Views:
    """The classifier views: each rect of the mapped main stream, scaled by its factor (at most
    1; ``1 / k`` with the rect's sides multiples of ``k`` keeps OpenCV on its fast path) into a
    new BGR image; only those pixels are read."""
    import cv2

    rects, images = [], []
    for rect, scale in planned:
        x0, y0, x1, y1 = rect
        part = main[y0:y1, x0:x1, :3]
        if scale >= 1.0:
            images.append(cast(Image, np.ascontiguousarray(part)))
        else:
            shape = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
            images.append(cast(Image, cv2.resize(part, shape, interpolation=cv2.INTER_AREA)))
        rects.append(rect)
    return Views(size, tuple(rects), tuple(images))
