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

PALETTE: dict[str, tuple[int, int, int]] = {
    "box": (255, 210, 0),  # objects found
    "event": (255, 64, 32),  # the object an event is about
    "track": (255, 255, 255),  # track ids
    "zone": (0, 200, 255),
    "line": (255, 0, 255),
    "mask": (40, 40, 40),
    "motion": (60, 230, 120),  # motion and detection regions (the live view's debug layer)
}
"""The one colour scheme (RGB) of snapshots, the live view and the pages (``palette.css``)."""
_EVENT = PALETTE["event"]
_OTHER = PALETTE["box"]


def bgr(name: str) -> tuple[int, int, int]:
    """A palette colour in OpenCV's BGR order."""
    r, g, b = PALETTE[name]
    return b, g, r


def palette_css() -> str:
    """The palette as CSS custom properties (``--zone``, ...) for the pages."""
    props = " ".join(f"--{k}: #{r:02x}{g:02x}{b:02x};" for k, (r, g, b) in PALETTE.items())
    return f":root {{ {props} }}\n"


def label_scale(width: int, height: int) -> float:
    """Font scale of labels: readable on a phone showing the whole frame, small on big frames."""
    return max(0.45, min(width, height) / 900)


def place_labels(
    wanted: Sequence[tuple[int, int, int, int]], width: int, height: int
) -> list[tuple[int, int]]:
    """Top-left corners for label rectangles ``(x, y, w, h)`` so that no two overlap.

    Each label keeps its wanted place when free, else moves down (then up) by its own height
    until it is; a label that cannot be placed without overlap keeps its last try.
    """
    placed: list[tuple[int, int, int, int]] = []
    out: list[tuple[int, int]] = []
    for wx, y, w, h in wanted:
        x = min(max(0, wx), max(0, width - w))
        tries = [y + k * h for k in range(0, 12)] + [y - k * h for k in range(1, 12)]
        best = (x, min(max(0, y), max(0, height - h)))
        for ty in tries:
            if ty < 0 or ty + h > height:
                continue
            if all(x + w <= px or px + pw <= x or ty + h <= py or py + ph <= ty
                   for px, py, pw, ph in placed):  # fmt: skip
                best = (x, ty)
                break
        placed.append((*best, w, h))
        out.append(best)
    return out


def draw_labels(image: Image, labels: Sequence[tuple[str, tuple[int, int], str]]) -> None:
    """Draw ``(text, anchor, colour name)`` labels on filled plates, none over another."""
    import cv2

    h, w = image.shape[:2]
    scale = label_scale(w, h)
    thick = max(1, round(scale * 2))
    sizes = [cv2.getTextSize(text, 0, scale, thick) for text, _, _ in labels]
    boxes = [
        (at[0], at[1] - (th + base + 4), tw + 6, th + base + 4)
        for (_, at, _), ((tw, th), base) in zip(labels, sizes, strict=True)
    ]
    for (text, _, colour), (x, y), (_, _, bw, bh), ((_, th), _) in zip(
        labels, place_labels(boxes, w, h), boxes, sizes, strict=True
    ):
        cv2.rectangle(image, (x, y), (x + bw - 1, y + bh - 1), (0, 0, 0), -1)
        cv2.putText(image, text, (x + 3, y + th + 2), 0, scale, bgr(colour), thick, cv2.LINE_AA)


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
        cv2.polylines(drawn, [poly], True, bgr("zone"), thick, cv2.LINE_AA)
    if camera is not None and event.line in camera.lines:
        a, b = (to_pixel(p, w, h) for p in camera.lines[event.line].points)
        cv2.arrowedLine(drawn, a, b, bgr("line"), thick, cv2.LINE_AA, tipLength=0.03)
    _boxes(drawn, boxes, _OTHER, thick)
    if event.box is not None:
        _boxes(drawn, [event.box], _EVENT, thick + 1)
        track = f"#{event.track_id}" if event.track_id else None
        caption = " ".join(s for s in (event.label, event.sub_label, track) if s)
        draw_labels(drawn, [(caption, to_pixel(event.box[:2], w, h), "event")])
    title = f"{event.rule} {event.type}" + (f" {event.direction}" if event.direction else "")
    cv2.putText(drawn, title, (6, 18), 0, 0.55, (255, 255, 255), 2)
    return encode_jpeg(drawn, quality)
