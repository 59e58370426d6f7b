"""Plane geometry in normalised frame coordinates: anchors, polygons, line crossings, IoU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from edgecam.types import Box

Pt = tuple[float, float]
"""A point ``(x, y)``; x to the right, y down, as in the image."""

Anchor = Literal["bottom_center", "center", "top_center"]
"""Which point of a box stands for the object when testing zones and lines."""


def anchor_point(box: Box, anchor: Anchor = "bottom_center") -> Pt:
    """The anchor point of ``box``: bottom-centre (the feet) by default."""
    x = (box[0] + box[2]) * 0.5
    if anchor == "bottom_center":
        return x, box[3]
    if anchor == "top_center":
        return x, box[1]
    return x, (box[1] + box[3]) * 0.5


def point_in_polygon(point: Pt, polygon: Sequence[Pt]) -> bool:
    """True when ``point`` is inside ``polygon`` (even-odd rule; half-open edges)."""
    x, y = point
    inside = False
    x1, y1 = polygon[-1]
    for x2, y2 in polygon:
        # Half-open in y: a vertex on the ray is counted for exactly one of its two edges.
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def side(a: Pt, b: Pt, p: Pt) -> float:
    """Signed area of ``a, b, p``: > 0 right of a->b (y down), < 0 left, 0 on the line."""
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _on_segment(a: Pt, b: Pt, p: Pt) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> bool:
    """True when the closed segments ``p1-p2`` and ``q1-q2`` share at least one point."""
    d1 = side(q1, q2, p1)
    d2 = side(q1, q2, p2)
    d3 = side(p1, p2, q1)
    d4 = side(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(q1, q2, p1))
        or (d2 == 0 and _on_segment(q1, q2, p2))
        or (d3 == 0 and _on_segment(p1, p2, q1))
        or (d4 == 0 and _on_segment(p1, p2, q2))
    )


def self_intersection(polygon: Sequence[Pt]) -> tuple[int, int] | None:
    """Indices of two non-adjacent edges that touch or cross, or None for a simple polygon."""
    n = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if segments_intersect(*edges[i], *edges[j]):
                return i, j
    return None


def polygon_area(polygon: Sequence[Pt]) -> float:
    """Unsigned area of a simple polygon (shoelace formula)."""
    total = 0.0
    x1, y1 = polygon[-1]
    for x2, y2 in polygon:
        total += x1 * y2 - x2 * y1
        x1, y1 = x2, y2
    return abs(total) * 0.5


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
