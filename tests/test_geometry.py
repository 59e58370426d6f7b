"""Geometry: property tests for point in polygon and segment crossing, plus fixed cases."""

from __future__ import annotations

import math

from hypothesis import assume, given
from hypothesis import strategies as st

from edgecam.geometry import (
    Pt,
    anchor_point,
    iou,
    point_in_polygon,
    polygon_area,
    segments_intersect,
    self_intersection,
    side,
)

coord = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
point = st.tuples(coord, coord)
# Multiples of 1/4096 (finer than any camera's pixels): cross products of these are exact in
# binary floating point, so the crossing properties hold exactly. Arbitrary floats such as 1e-38
# next to 1.0 lose the tiny term to rounding, which says nothing about frames.
grid = st.integers(0, 4096).map(lambda i: i / 4096)
gpoint = st.tuples(grid, grid)


@st.composite
def convex_polygons(draw: st.DrawFn) -> list[Pt]:
    """Points on a circle at sorted angles: a convex polygon, listed counter-clockwise."""
    cx, cy = draw(st.floats(0.3, 0.7)), draw(st.floats(0.3, 0.7))
    r = draw(st.floats(0.05, 0.3))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi), min_size=3, max_size=12, unique=True)))
    poly = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles]
    assume(polygon_area(poly) > 1e-4)
    return poly


@given(convex_polygons(), point)
def test_convex_inside_iff_on_the_same_side_of_every_edge(poly: list[Pt], p: Pt) -> None:
    sides = [side(poly[i - 1], poly[i], p) for i in range(len(poly))]
    assume(all(abs(s) > 1e-9 for s in sides))  # on an edge either answer is fine
    assert point_in_polygon(p, poly) == (all(s > 0 for s in sides) or all(s < 0 for s in sides))


@given(convex_polygons(), point, st.integers(0, 11))
def test_inside_does_not_depend_on_start_vertex_or_orientation(
    poly: list[Pt], p: Pt, shift: int
) -> None:
    k = shift % len(poly)
    rotated = poly[k:] + poly[:k]
    expected = point_in_polygon(p, poly)
    assert point_in_polygon(p, rotated) == expected
    assert point_in_polygon(p, rotated[::-1]) == expected


@given(point, point, coord, coord)
def test_rectangle(a: Pt, b: Pt, x: float, y: float) -> None:
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    assume(x0 < x < x1 or not x0 <= x <= x1)
    assume(y0 < y < y1 or not y0 <= y <= y1)
    rect = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    assert point_in_polygon((x, y), rect) == (x0 < x < x1 and y0 < y < y1)


@given(gpoint, gpoint, gpoint, gpoint)
def test_crossing_is_symmetric(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> None:
    expected = segments_intersect(p1, p2, q1, q2)
    assert segments_intersect(q1, q2, p1, p2) == expected
    assert segments_intersect(p2, p1, q2, q1) == expected


@given(gpoint, gpoint, gpoint, gpoint)
def test_crossing_agrees_with_the_parametric_solution(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> None:
    rx, ry = p2[0] - p1[0], p2[1] - p1[1]
    sx, sy = q2[0] - q1[0], q2[1] - q1[1]
    denom = rx * sy - ry * sx
    assume(abs(denom) > 1e-6)  # not parallel
    t = ((q1[0] - p1[0]) * sy - (q1[1] - p1[1]) * sx) / denom
    u = ((q1[0] - p1[0]) * ry - (q1[1] - p1[1]) * rx) / denom
    assume(min(abs(t), abs(t - 1), abs(u), abs(u - 1)) > 1e-6)  # clear of the end points
    assert segments_intersect(p1, p2, q1, q2) == (0 < t < 1 and 0 < u < 1)


@given(gpoint, gpoint, st.integers(1, 63).map(lambda i: i / 64))
def test_a_segment_meets_every_segment_through_one_of_its_points(a: Pt, b: Pt, f: float) -> None:
    assume(a != b)
    mid = (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]))
    normal = (-(b[1] - a[1]), b[0] - a[0])
    c = (mid[0] + normal[0], mid[1] + normal[1])
    d = (mid[0] - normal[0], mid[1] - normal[1])
    assert segments_intersect(a, b, c, d)


def test_fixed_cases() -> None:
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    bowtie = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]
    assert self_intersection(square) is None
    assert self_intersection(bowtie) == (0, 2)
    assert segments_intersect((0, 0), (1, 1), (1, 1), (2, 0))  # touching end points
    assert not segments_intersect((0, 0), (1, 0), (0, 1), (1, 1))  # parallel
    assert segments_intersect((0, 0), (2, 0), (1, 0), (3, 0))  # collinear overlap
    assert anchor_point((0.2, 0.2, 0.4, 0.8)) == (0.30000000000000004, 0.8)
    assert anchor_point((0.2, 0.2, 0.4, 0.8), "center")[1] == 0.5
    assert iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0
    assert iou((0, 0, 1, 1), (1, 1, 2, 2)) == 0.0
    assert abs(iou((0, 0, 2, 1), (1, 0, 3, 1)) - 1 / 3) < 1e-12
