"""Tracker settings, per camera."""

from __future__ import annotations

from pydantic import Field

from edgecam.schema import Duration, StrictModel


class StationaryConfig(StrictModel):
    """When a tracked object counts as stationary (a parked car, a person sitting)."""

    enabled: bool = True
    """Mark objects that stop moving as stationary and keep them through missed detections."""
    after: Duration = Field(default=10.0, gt=0.0)
    """How long an object must stay put before it is stationary."""
    max_move: float = Field(default=0.2, gt=0.0, le=5.0)
    """How far its centre may wander meanwhile, in diagonals of its box (box jitter)."""
    keep: Duration = Field(default=60.0, gt=0.0)
    """How long a stationary object is kept without a detection (instead of ``max_age``).

    Every analysed frame re-checks it (behind the motion gate at least every ``max_interval``);
    one detection renews it, so a flickering detection neither ends nor restarts its events."""


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
    stationary: StationaryConfig = Field(default_factory=StationaryConfig)
    """Objects that stop moving: when they count as stationary and how long they are kept."""
