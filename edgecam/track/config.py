"""Tracker settings, per camera."""

from __future__ import annotations

from pydantic import Field

from edgecam.config.base import Duration, StrictModel


class TrackerConfig(StrictModel):
    """How detections are tied into tracks across frames."""

    min_hits: int = Field(default=3, ge=1, le=100)
    """Detections needed before a track is confirmed and rules see it."""
    max_age: Duration = 2.0
    """How long a track survives without a matching detection before it is dropped."""
    min_iou: float = Field(default=0.2, ge=0.0, le=1.0)
    """Least overlap between a track's predicted box and a detection to match them."""
    max_distance: float = Field(default=1.0, gt=0.0, le=10.0)
    """Fallback match by centre distance, in units of the track box's size (fast movers)."""
    history: int = Field(default=50, ge=2, le=10_000)
    """Positions and scores kept per track."""
