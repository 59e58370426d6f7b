"""Zones, lines and masks of a camera, in normalised frame coordinates (config models)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from edgecam.geometry import Anchor, self_intersection
from edgecam.schema import Point, StrictModel


def _check_polygon(points: list[Point]) -> list[Point]:
    """At least 3 distinct points and no edges that cross each other."""
    if len(set(points)) < 3:
        raise ValueError("a polygon needs at least 3 distinct points [x, y]")
    if (bad := self_intersection(points)) is not None:
        i, j = bad
        raise ValueError(
            f"the polygon crosses itself (edge {i}-{i + 1} meets edge {j}-{(j + 1) % len(points)});"
            " list the points in order around the shape"
        )
    return points


Polygon = Annotated[list[Point], Field(min_length=3), AfterValidator(_check_polygon)]
"""Corners ``[[x, y], ...]`` in order around a simple polygon, normalised to the frame."""


class ZoneConfig(StrictModel):
    """A polygon; an object is in the zone when its anchor point is inside."""

    polygon: Polygon
    """Corners ``[[x, y], ...]`` in order around the zone, normalised to the frame."""
    anchor: Anchor = "bottom_center"
    """Box point tested against the zone: ``bottom_center`` (feet), ``center``, ``top_center``."""
    enter_frames: int = Field(default=2, ge=1, le=100)
    """Consecutive frames inside before an object counts as in the zone (against jitter)."""
    leave_frames: int = Field(default=2, ge=1, le=100)
    """Consecutive frames outside before an object counts as having left."""


class LineConfig(StrictModel):
    """A directed line: ``in`` is crossing it from its left to its right, seen from point 1 to 2."""

    points: tuple[Point, Point]
    """The two end points ``[[x1, y1], [x2, y2]]``, normalised to the frame."""
    anchor: Anchor = "bottom_center"
    """The point of a box whose path is tested against the line."""
    margin: float = Field(default=0.01, ge=0.0, le=0.2)
    """Distance from the line (frame units) that counts as on it: hovering there crosses nothing."""
    max_gap: int = Field(default=3, ge=0, le=1000)
    """Frames a track may be missed and still count when it shows up on the other side: after a
    longer gap the tracker has often given it another person's box (people passing each other)."""

    @model_validator(mode="after")
    def _distinct(self) -> LineConfig:
        if self.points[0] == self.points[1]:
            raise ValueError("a line needs two distinct points")
        return self


class MaskConfig(StrictModel):
    """A polygon whose detections are ignored (e.g. a poster, a road beyond the fence)."""

    polygon: Polygon
    """Corners ``[[x, y], ...]`` in order around the masked area, normalised to the frame."""
    anchor: Anchor = "bottom_center"
    """A detection is dropped when this point of its box is inside the mask."""
