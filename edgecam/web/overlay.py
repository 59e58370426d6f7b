"""Draw a camera's masks, zones, lines (with their direction), detections and tracks on a frame.

The colours are the snapshots' (:data:`edgecam.pipeline.annotate.PALETTE`), and labels are placed
by the same code, so that no two overlap and they stay readable on a phone.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from edgecam.config.models import CameraConfig
from edgecam.pipeline.annotate import bgr, draw_labels, to_pixel
from edgecam.types import Box, Detection, Image
from edgecam.web.view import TrackBox

LAYERS = ("boxes", "zones", "lines", "masks", "motion")
"""What the live view can show; ``motion`` is the motion and detection regions (debug)."""
DEFAULT_LAYERS = frozenset({"boxes", "zones", "lines", "masks"})

_px = to_pixel  # the one mapping of normalised points, shared with the event snapshots
Label = tuple[str, tuple[int, int], str]


def draw_overlay(
    image: Image,
    camera: CameraConfig | None,
    detections: Sequence[Detection],
    tracks: Sequence[TrackBox],
    *,
    layers: Collection[str] = DEFAULT_LAYERS,
    regions: Sequence[tuple[int, int, int, int]] = (),
    motion: Sequence[Box] = (),
) -> Image:
    """A copy of the BGR ``image`` with the ``layers`` asked for drawn on it."""
    import cv2

    out = image.copy()  # the frame may still be in use by the pipeline
    h, w = out.shape[:2]
    thick = max(1, round(min(w, h) / 300))
    labels: list[Label] = []
    if camera is not None:
        _areas(out, camera, layers, labels, thick)
    if "motion" in layers:
        for x0, y0, x1, y1 in regions:
            cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), bgr("motion"), thick)
        for box in motion:
            cv2.rectangle(out, _px(box[:2], w, h), _px(box[2:], w, h), bgr("motion"), 1)
    if "boxes" in layers:
        by_box = {t.box: t for t in tracks}
        for det in detections:
            p0, p1 = _px(det.box[:2], w, h), _px(det.box[2:], w, h)
            cv2.rectangle(out, p0, p1, bgr("box"), thick + 1)
            t = by_box.get(det.box)
            track = "" if t is None else f" #{t.id}" + (f" {t.sub_label}" if t.sub_label else "")
            labels.append((f"{det.label} {det.score:.2f}{track}", p0, "box"))
        shown = {d.box for d in detections}
        for t in tracks:
            if t.box not in shown:  # a track the detector did not see on this frame
                text = f"#{t.id} {t.sub_label}" if t.sub_label else f"#{t.id}"
                labels.append((text, _px(t.box[:2], w, h), "track"))
    draw_labels(out, labels)
    return out


def _areas(
    out: Image, camera: CameraConfig, layers: Collection[str], labels: list[Label], thick: int
) -> None:
    import cv2
    import numpy as np

    h, w = out.shape[:2]
    if "masks" in layers and camera.masks:
        shade = out.copy()
        for mask in camera.masks:
            pts = np.array([_px(p, w, h) for p in mask.polygon], np.int32)
            cv2.fillPoly(shade, [pts], bgr("mask"))
        cv2.addWeighted(shade, 0.6, out, 0.4, 0, dst=out)
    if "zones" in layers:
        for name, zone in camera.zones.items():
            pts = np.array([_px(p, w, h) for p in zone.polygon], np.int32)
            cv2.polylines(out, [pts], True, bgr("zone"), thick, cv2.LINE_AA)
            labels.append((name, (int(pts[:, 0].min()), int(pts[:, 1].min())), "zone"))
    if "lines" in layers:
        for name, line in camera.lines.items():
            a, b = _px(line.points[0], w, h), _px(line.points[1], w, h)
            labels += _draw_line(out, name, a, b, thick)


def _draw_line(
    out: Image, name: str, a: tuple[int, int], b: tuple[int, int], thick: int
) -> list[Label]:
    """The line and an arrow towards its ``in`` side (right of a->b); its labels."""
    import cv2

    cv2.line(out, a, b, bgr("line"), thick, cv2.LINE_AA)
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
    # (-dy, dx) points to the side where geometry.side() > 0, which a crossing "in" ends on.
    tip = (round(mid[0] - dy / length * 30), round(mid[1] + dx / length * 30))
    cv2.arrowedLine(out, mid, tip, bgr("line"), thick, cv2.LINE_AA, tipLength=0.35)
    return [("in", tip, "line"), (name, a, "line")]
