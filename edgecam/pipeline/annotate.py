"""The event snapshot annotator, and the one mapping of normalised points to pixels.

Boxes and points are normalised (0..1); :func:`to_pixel` places them on a frame of any size, so a
box lands on the same pixels whether it is drawn on the analysed frame or the camera's full-size
one, in a snapshot or in the web page's live view (:mod:`edgecam.web.overlay` uses it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from edgecam.errors import CameraError
from edgecam.event import Event
from edgecam.types import Box, Image

if TYPE_CHECKING:
    from edgecam.config.models import CameraConfig

# RGB; OpenCV draws BGR, hence the [::-1] below.
_EVENT = (255, 64, 32)
_OTHER = (255, 210, 0)
_AREA = (0, 200, 255)


def to_pixel(point: Sequence[float], width: int, height: int) -> tuple[int, int]:
    """A normalised point on a ``width`` x ``height`` image: 0 is the first pixel, 1 the last."""
    return round(point[0] * (width - 1)), round(point[1] * (height - 1))


def _thickness(width: int, height: int) -> int:
    return max(1, round(min(width, height) / 240))


def _boxes(image: Image, boxes: Sequence[Box], colour: tuple[int, int, int], thick: int) -> None:
    import cv2

    h, w = image.shape[:2]
    for box in boxes:
        cv2.rectangle(image, to_pixel(box[:2], w, h), to_pixel(box[2:], w, h), colour[::-1], thick)


def encode_jpeg(image: Image, quality: int) -> bytes:
    """JPEG bytes of a BGR image; CameraError if OpenCV cannot encode it."""
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CameraError("cannot encode the frame as JPEG")
    return bytes(data.tobytes())


def render_snapshot(
    image: Image,
    event: Event,
    camera: CameraConfig | None = None,
    *,
    boxes: Sequence[Box] = (),
    quality: int = 85,
) -> bytes:
    """JPEG of ``image`` with the event's zone or line, every box in ``boxes`` and the event's."""
    import cv2

    drawn = image.copy()  # draw on a copy: the frame may still be in use
    h, w = drawn.shape[:2]
    thick = _thickness(w, h)
    if camera is not None and event.zone in camera.zones:
        poly = np.array([to_pixel(p, w, h) for p in camera.zones[event.zone].polygon], np.int32)
        cv2.polylines(drawn, [poly], True, _AREA[::-1], thick, cv2.LINE_AA)
    if camera is not None and event.line in camera.lines:
        a, b = (to_pixel(p, w, h) for p in camera.lines[event.line].points)
        cv2.arrowedLine(drawn, a, b, _AREA[::-1], thick, cv2.LINE_AA, tipLength=0.03)
    _boxes(drawn, boxes, _OTHER, thick)
    if event.box is not None:
        _boxes(drawn, [event.box], _EVENT, thick + 1)
        x, y = to_pixel(event.box[:2], w, h)
        track = f"#{event.track_id}" if event.track_id else None
        caption = " ".join(s for s in (event.label, event.sub_label, track) if s)
        cv2.putText(drawn, caption, (x, max(12, y - 4)), 0, 0.45, _EVENT[::-1], 1)
    title = f"{event.rule} {event.type}" + (f" {event.direction}" if event.direction else "")
    cv2.putText(drawn, title, (6, 18), 0, 0.55, (255, 255, 255), 2)
    return encode_jpeg(drawn, quality)
