"""A small IoU tracker with a centre-distance fallback and constant-velocity prediction."""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence

from edgecam.geometry import iou
from edgecam.track.config import StationaryConfig, TrackerConfig
from edgecam.types import Box, Detection


class Track:
    """One object followed over time; mutable, owned by the :class:`Tracker` that made it."""

    __slots__ = (
        "_median",
        "box",
        "class_id",
        "confirmed",
        "first_seen",
        "gap",
        "history",
        "hits",
        "id",
        "label",
        "last_seen",
        "missed",
        "origin",
        "peak_score",
        "scores",
        "seen_now",
        "stationary",
        "still_at",
        "still_since",
        "sub_label",
        "sub_scientific",
        "sub_score",
        "sub_top",
        "travel",
        "velocity",
        "votes",
        "zone_path",
        "zone_since",
        "zones",
        "zones_visited",
    )

    def __init__(self, track_id: int, det: Detection, now: float, history: int) -> None:
        self.id = track_id
        self.label = det.label
        self.class_id = det.class_id
        self.box: Box = det.box
        self.first_seen = now
        self.last_seen = now
        self.hits = 1
        self.confirmed = False
        self.seen_now = True
        """True when a detection matched this track in the latest frame."""
        self.missed = 0
        """Analysed frames in a row without a matching detection, up to now."""
        self.gap = 0
        """Frames the track was missed right before its latest detection."""
        self.peak_score = det.score
        """The highest score over the whole track."""
        self.scores: deque[float] = deque([det.score], maxlen=history)
        self.history: deque[tuple[float, Box]] = deque([(now, det.box)], maxlen=history)
        self.velocity = (0.0, 0.0)
        """Centre velocity in frame units per second (smoothed)."""
        self.zones: set[str] = set()
        """Zones the track is in now (after inertia)."""
        self.zone_since: dict[str, float] = {}
        """When the track entered each zone it is in now."""
        self.zones_visited: set[str] = set()
        self.zone_path: list[str] = []
        """Zones in the order the track entered them (a zone entered twice appears twice)."""
        self.origin = _centre(det.box)
        self.travel = 0.0
        """Farthest its centre has got from where the track began (frame units)."""
        self.stationary = False
        """True once the object stayed put for ``stationary.after`` (until it moves again)."""
        self.still_since = now
        """Since when the box's centre has stayed near ``still_at``."""
        self.still_at = _centre(det.box)
        self._median: float | None = None
        self.sub_label: str | None = None
        """What a classifier says the object is (a bird's species), once its vote is sure."""
        self.sub_score: float | None = None
        """The sub label's probability averaged over the classified crops."""
        self.sub_top: tuple[tuple[str, float], ...] = ()
        """The classifier's three best classes with their averaged probabilities."""
        self.sub_scientific: str | None = None
        """The sub label's scientific name, where the classifier's classes give one (birds)."""
        self.votes: object | None = None
        """The classification stage's state for this track (owned by that stage)."""

    @property
    def score(self) -> float:
        """The latest detection score."""
        return self.scores[-1]

    @property
    def median_score(self) -> float:
        """Median score over the kept history: steadier than one frame's score."""
        if self._median is None:
            self._median = statistics.median(self.scores)
        return self._median

    def predict(self, now: float) -> Box:
        """Where the box should be at ``now`` if it kept its velocity."""
        dt = now - self.last_seen
        dx, dy = self.velocity[0] * dt, self.velocity[1] * dt
        b = self.box
        return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)

    def update(self, det: Detection, now: float, min_hits: int) -> None:
        """Take a matching detection."""
        dt = now - self.last_seen
        if dt > 0:
            old, new = self.box, det.box
            vx = ((new[0] + new[2]) - (old[0] + old[2])) * 0.5 / dt
            vy = ((new[1] + new[3]) - (old[1] + old[3])) * 0.5 / dt
            # Smoothing keeps one jumpy box from throwing the prediction off.
            self.velocity = (0.5 * (self.velocity[0] + vx), 0.5 * (self.velocity[1] + vy))
        self.box = det.box
        self.last_seen = now
        self.gap, self.missed = self.missed, 0
        self.hits += 1
        self.confirmed = self.confirmed or self.hits >= min_hits
        self.seen_now = True
        self.scores.append(det.score)
        self.peak_score = max(self.peak_score, det.score)
        self.history.append((now, det.box))
        self._median = None

    def settle(self, now: float, config: StationaryConfig) -> None:
        """After an update: note how far it got, and whether it stayed put long enough."""
        cx, cy = _centre(self.box)
        self.travel = max(self.travel, math.hypot(cx - self.origin[0], cy - self.origin[1]))
        diagonal = math.hypot(self.box[2] - self.box[0], self.box[3] - self.box[1])
        if math.hypot(cx - self.still_at[0], cy - self.still_at[1]) > config.max_move * diagonal:
            self.still_at, self.still_since, self.stationary = (cx, cy), now, False
        elif config.enabled and now - self.still_since >= config.after:
            self.stationary = True
            self.velocity = (0.0, 0.0)  # it does not drift off while missed


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) * 0.5, (box[1] + box[3]) * 0.5


def centre_distance(a: Box, b: Box) -> float:
    """Distance between the centres of ``a`` and ``b``, in diagonals of ``a``."""
    dx = (b[0] + b[2] - a[0] - a[2]) * 0.5
    dy = (b[1] + b[3] - a[1] - a[3]) * 0.5
    return math.hypot(dx, dy) / max(math.hypot(a[2] - a[0], a[3] - a[1]), 1e-6)


class Tracker:
    """Greedy association of detections to tracks by IoU, then by centre distance."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, now: float, detections: Sequence[Detection]) -> list[Track]:
        """Advance to time ``now`` with this frame's detections; return the live tracks."""
        cfg = self.config
        for track in self.tracks:
            track.seen_now = False
        unmatched = self._associate(now, detections)
        for track in self.tracks:
            if not track.seen_now:
                track.missed += 1
        for index in unmatched:
            self.tracks.append(Track(self._next_id, detections[index], now, cfg.history))
            self._next_id += 1
        if cfg.min_hits <= 1:
            for track in self.tracks:
                track.confirmed = True
        keep = cfg.stationary.keep
        for track in self.tracks:
            if track.seen_now:
                track.settle(now, cfg.stationary)
        self.tracks = [
            t for t in self.tracks if now - t.last_seen <= (keep if t.stationary else cfg.max_age)
        ]
        return self.tracks

    def _associate(self, now: float, detections: Sequence[Detection]) -> list[int]:
        """Update matched tracks; return the indices of detections that matched none.

        A frame holds a handful of tracks and detections, so plain loops over the pairs beat
        array code here (no per-call overhead); pairs are ranked best first, ties in order.
        """
        if not self.tracks or not detections:
            return list(range(len(detections)))
        cfg = self.config
        predicted = [(t, t.predict(now)) for t in self.tracks]
        free_t = set(range(len(self.tracks)))
        free_d = set(range(len(detections)))
        # IoU first (higher is better), then centre distance for boxes that moved too far.
        min_iou = max(cfg.min_iou, 1e-9)
        pairs: list[tuple[float, int, int]] = []
        for ti, (track, box) in enumerate(predicted):
            left, right = box[0], box[2]
            for di, det in enumerate(detections):
                other = det.box
                # Most pairs lie side by side: skip them before the full IoU.
                if other[0] >= right or other[2] <= left or det.label != track.label:
                    continue
                if (overlap := iou(box, other)) >= min_iou:
                    pairs.append((-overlap, ti, di))
        self._take(pairs, free_t, free_d, detections, now)
        if free_t and free_d:
            pairs = []
            for ti in sorted(free_t):
                track, box = predicted[ti]
                for di in sorted(free_d):
                    det = detections[di]
                    if det.label == track.label:
                        dist = centre_distance(box, det.box)
                        if dist <= cfg.max_distance:
                            pairs.append((dist, ti, di))
            self._take(pairs, free_t, free_d, detections, now)
        return sorted(free_d)

    def _take(
        self,
        pairs: list[tuple[float, int, int]],
        free_t: set[int],
        free_d: set[int],
        detections: Sequence[Detection],
        now: float,
    ) -> None:
        """Match pairs best (lowest key) first; a stable sort keeps ties in row order."""
        pairs.sort(key=_first)
        for _, ti, di in pairs:
            if ti in free_t and di in free_d:
                free_t.discard(ti)
                free_d.discard(di)
                self.tracks[ti].update(detections[di], now, self.config.min_hits)


def _first(pair: tuple[float, int, int]) -> float:
    return pair[0]
