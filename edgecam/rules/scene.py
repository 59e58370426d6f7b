"""One camera's scene: masks, the tracker, zone membership with inertia, and line crossings."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from edgecam.geometry import Anchor, anchor_point, point_in_polygon, segments_intersect, side
from edgecam.rules.areas import LineConfig, MaskConfig, ZoneConfig
from edgecam.track.config import TrackerConfig
from edgecam.track.tracker import Track, Tracker
from edgecam.types import Box, Detection, Frame

MAX_ZONE_PATH = 64
"""Zone entries kept per track, for path rules (a track pacing between zones stops adding)."""


@dataclass(frozen=True, slots=True)
class Crossing:
    """A track crossed a line in a direction."""

    track: Track
    line: str
    direction: Literal["in", "out"]


@dataclass(slots=True)
class Observation:
    """What one frame shows, after tracking: the input of every rule."""

    frame: Frame
    tracks: list[Track]
    """Confirmed live tracks, including ones not seen in this frame (coasting)."""
    crossings: list[Crossing] = field(default_factory=list)
    """Line crossings first reported with this frame."""


@dataclass(frozen=True, slots=True)
class _Area:
    """A zone prepared for fast tests: polygon, anchor and bounding box."""

    name: str
    polygon: tuple[tuple[float, float], ...]
    anchor: Anchor
    enter_frames: int
    leave_frames: int
    bbox: tuple[float, float, float, float]

    @classmethod
    def of(cls, name: str, zone: ZoneConfig) -> _Area:
        xs, ys = [p[0] for p in zone.polygon], [p[1] for p in zone.polygon]
        bbox = (min(xs), min(ys), max(xs), max(ys))
        return cls(
            name, tuple(zone.polygon), zone.anchor, zone.enter_frames, zone.leave_frames, bbox
        )

    def contains(self, box: Box) -> bool:
        """True when the anchor of ``box`` is inside the zone."""
        x, y = anchor_point(box, self.anchor)
        b = self.bbox
        return b[0] <= x <= b[2] and b[1] <= y <= b[3] and point_in_polygon((x, y), self.polygon)


@dataclass(frozen=True, slots=True)
class _Gate:
    """A line prepared for fast tests."""

    name: str
    a: tuple[float, float]
    b: tuple[float, float]
    anchor: Anchor
    margin: float
    inv_length: float
    max_gap: int

    @classmethod
    def of(cls, name: str, line: LineConfig) -> _Gate:
        a, b = line.points
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        return cls(name, a, b, line.anchor, line.margin, 1.0 / length, line.max_gap)


@dataclass(slots=True)
class _Streak:
    """Consecutive frames on the other side of a zone boundary than the track's state."""

    frames: int
    since: float


@dataclass(slots=True)
class _LineSide:
    """The last side of a line a track was clearly on, where, and what was already counted."""

    sign: int
    point: tuple[float, float]
    counted: set[str] = field(default_factory=set)


class Scene:
    """Turns a camera's detections into an :class:`Observation`; keeps the per-track state."""

    def __init__(
        self,
        zones: dict[str, ZoneConfig] | None = None,
        lines: dict[str, LineConfig] | None = None,
        masks: Sequence[MaskConfig] = (),
        tracker: TrackerConfig | None = None,
    ) -> None:
        self.zones = dict(zones or {})
        self.lines = dict(lines or {})
        self.masks = list(masks)
        self.tracker = Tracker(tracker)
        self._areas = [_Area.of(name, zone) for name, zone in self.zones.items()]
        self._gates = [_Gate.of(name, line) for name, line in self.lines.items()]
        self._streaks: dict[tuple[int, str], _Streak] = {}
        self._sides: dict[tuple[int, str], _LineSide] = {}
        self._pending: dict[int, list[Crossing]] = {}

    def unmasked(self, detections: Sequence[Detection]) -> list[Detection]:
        """Detections whose anchor is outside every mask."""
        if not self.masks:
            return list(detections)
        return [
            d
            for d in detections
            if not any(
                point_in_polygon(anchor_point(d.box, m.anchor), m.polygon) for m in self.masks
            )
        ]

    def observe(self, frame: Frame, detections: Sequence[Detection]) -> Observation:
        """Track this frame's detections and update zones and lines."""
        tracks = self.tracker.update(frame.mono, self.unmasked(detections))
        crossings: list[Crossing] = []
        for track in tracks:
            if track.seen_now:
                self._update_zones(track, frame.mono)
                self._update_lines(track)
            if track.confirmed and (pending := self._pending.pop(track.id, None)):
                crossings.extend(pending)
        self._forget(tracks)
        return Observation(frame, [t for t in tracks if t.confirmed], crossings)

    def _update_zones(self, track: Track, now: float) -> None:
        for zone in self._areas:
            name = zone.name
            inside = zone.contains(track.box)
            if inside == (name in track.zones):
                self._streaks.pop((track.id, name), None)
                continue
            key = (track.id, name)
            streak = self._streaks.get(key)
            if streak is None:
                streak = self._streaks[key] = _Streak(0, now)
            streak.frames += 1
            if streak.frames >= (zone.enter_frames if inside else zone.leave_frames):
                del self._streaks[key]
                if inside:
                    track.zones.add(name)
                    track.zones_visited.add(name)
                    if len(track.zone_path) < MAX_ZONE_PATH:
                        track.zone_path.append(name)
                    # Entered when the streak began, so dwell time includes the inertia frames.
                    track.zone_since[name] = streak.since
                else:
                    track.zones.discard(name)
                    track.zone_since.pop(name, None)

    def _update_lines(self, track: Track) -> None:
        for line in self._gates:
            name, a, b = line.name, line.a, line.b
            point = anchor_point(track.box, line.anchor)
            # Signed distance to the infinite line; within the margin counts as on the line.
            dist = side(a, b, point) * line.inv_length
            if abs(dist) <= line.margin:
                continue
            sign = 1 if dist > 0 else -1
            key = (track.id, name)
            state = self._sides.get(key)
            if state is None:
                self._sides[key] = _LineSide(sign, point)
                continue
            if sign != state.sign and track.gap > line.max_gap:
                pass  # back after a long gap: often another object's box, so no crossing
            elif sign != state.sign and segments_intersect(state.point, point, a, b):
                direction: Literal["in", "out"] = "in" if sign > 0 else "out"
                if direction not in state.counted:
                    state.counted.add(direction)
                    self._pending.setdefault(track.id, []).append(Crossing(track, name, direction))
            state.sign, state.point = sign, point

    def _forget(self, tracks: list[Track]) -> None:
        """Drop the state of tracks the tracker has dropped."""
        if len(self._sides) + len(self._streaks) + len(self._pending) == 0:
            return
        live = {t.id for t in tracks}
        for store in (self._sides, self._streaks):
            for key in [k for k in store if k[0] not in live]:
                del store[key]
        for tid in [k for k in self._pending if k not in live]:
            del self._pending[tid]
