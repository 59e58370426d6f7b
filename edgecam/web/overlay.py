"""Draw a camera's masks, zones, lines (with their direction), detections and tracks on a frame."""

from __future__ import annotations

import math
from collections.abc import Sequence

from edgecam.config.models import CameraConfig
from edgecam.pipeline.annotate import to_pixel
from edgecam.types import Detection, Image
from edgecam.web.view import TrackBox

_BOX = (0, 200, 0)
_TRACK = (0, 220, 255)
_ZONE = (255, 160, 0)
_LINE = (255, 0, 255)
_MASK = (40, 40, 40)
_FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX


_px = to_pixel  # the one mapping of normalised points, shared with the event snapshots


def draw_overlay(
    image: Image,
    camera: CameraConfig | None,
    detections: Sequence[Detection],
    tracks: Sequence[TrackBox],
) -> Image:
    """A copy of the BGR ``image`` with the camera's areas and what was found drawn on it."""
    import cv2
    import numpy as np

    out = image.copy()  # the frame may still be in use by the pipeline
    h, w = out.shape[:2]
    if camera is not None:
        if camera.masks:
            shade = out.copy()
            for mask in camera.masks:
                pts = np.array([_px(p, w, h) for p in mask.polygon], np.int32)
                cv2.fillPoly(shade, [pts], _MASK)
            cv2.addWeighted(shade, 0.6, out, 0.4, 0, dst=out)
        for name, zone in camera.zones.items():
            pts = np.array([_px(p, w, h) for p in zone.polygon], np.int32)
            cv2.polylines(out, [pts], True, _ZONE, 2, cv2.LINE_AA)
            _label(out, name, (int(pts[:, 0].min()), int(pts[:, 1].min())), _ZONE)
        for name, line in camera.lines.items():
            _draw_line(out, name, _px(line.points[0], w, h), _px(line.points[1], w, h))
    for det in detections:
        p0, p1 = _px(det.box[:2], w, h), _px(det.box[2:], w, h)
        cv2.rectangle(out, p0, p1, _BOX, 2)
        _label(out, f"{det.label} {det.score:.2f}", p0, _BOX)
    for track in tracks:
        p0 = _px(track.box[:2], w, h)
        text = f"#{track.id} {track.sub_label}" if track.sub_label else f"#{track.id}"
        _label(out, text, (p0[0], _px(track.box[2:], w, h)[1] + 16), _TRACK)
    return out


def _draw_line(out: Image, name: str, a: tuple[int, int], b: tuple[int, int]) -> None:
    """The line, its name at the start, and an arrow towards its ``in`` side (right of a->b)."""
    import cv2

    cv2.line(out, a, b, _LINE, 2, cv2.LINE_AA)
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
    # (-dy, dx) points to the side where geometry.side() > 0, which a crossing "in" ends on.
    tip = (round(mid[0] - dy / length * 30), round(mid[1] + dx / length * 30))
    cv2.arrowedLine(out, mid, tip, _LINE, 2, cv2.LINE_AA, tipLength=0.35)
    _label(out, "in", tip, _LINE)
    _label(out, name, a, _LINE)


def _label(out: Image, text: str, at: tuple[int, int], colour: tuple[int, int, int]) -> None:
    import cv2

    org = (max(0, at[0]), max(12, at[1] - 4))
    cv2.putText(out, text, org, _FONT, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, org, _FONT, 0.5, colour, 1, cv2.LINE_AA)
