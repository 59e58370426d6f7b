"""A small IoU tracker with a centre-distance fallback and constant-velocity prediction."""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from edgecam.track.config import TrackerConfig
from edgecam.types import Box, Detection


class Track:
    """One object followed over time; mutable, owned by the :class:`Tracker` that made it."""

    __slots__ = (
        "_median",
        "box",
        "class_id",
        "confirmed",
        "first_seen",
        "history",
        "hits",
        "id",
        "label",
        "last_seen",
        "scores",
        "seen_now",
        "velocity",
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
        self.scores: deque[float] = deque([det.score], maxlen=history)
        self.history: deque[tuple[float, Box]] = deque([(now, det.box)], maxlen=history)
        self.velocity = (0.0, 0.0)
        """Centre velocity in frame units per second (smoothed)."""
        self.zones: set[str] = set()
        """Zones the track is in now (after inertia)."""
        self.zone_since: dict[str, float] = {}
        """When the track entered each zone it is in now."""
        self.zones_visited: set[str] = set()
        self._median: float | None = None

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
        self.hits += 1
        self.confirmed = self.confirmed or self.hits >= min_hits
        self.seen_now = True
        self.scores.append(det.score)
        self.history.append((now, det.box))
        self._median = None


def _iou_matrix(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _distance_matrix(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Centre distance divided by the diagonal of the track's box."""
    ca = (a[:, :2] + a[:, 2:]) * 0.5
    cb = (b[:, :2] + b[:, 2:]) * 0.5
    diag = np.hypot(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1])
    dist = np.hypot(ca[:, None, 0] - cb[None, :, 0], ca[:, None, 1] - cb[None, :, 1])
    return dist / np.maximum(diag, 1e-6)[:, None]


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
        for index in unmatched:
            self.tracks.append(Track(self._next_id, detections[index], now, cfg.history))
            self._next_id += 1
        if cfg.min_hits <= 1:
            for track in self.tracks:
                track.confirmed = True
        self.tracks = [t for t in self.tracks if now - t.last_seen <= cfg.max_age]
        return self.tracks

    def _associate(self, now: float, detections: Sequence[Detection]) -> list[int]:
        """Update matched tracks; return the indices of detections that matched none."""
        if not self.tracks or not detections:
            return list(range(len(detections)))
        cfg = self.config
        pred = np.array([t.predict(now) for t in self.tracks], dtype=np.float64)
        dets = np.array([d.box for d in detections], dtype=np.float64)
        same = np.array([[t.label == d.label for d in detections] for t in self.tracks])
        free_t = set(range(len(self.tracks)))
        free_d = set(range(len(detections)))
        # IoU first (higher is better), then centre distance for boxes that moved too far.
        overlap = np.where(same, _iou_matrix(pred, dets), -1.0)
        pairs = np.argwhere(overlap >= max(cfg.min_iou, 1e-9))
        order = np.argsort(-overlap[pairs[:, 0], pairs[:, 1]], kind="stable")
        self._take(pairs[order], free_t, free_d, detections, now)
        if free_t and free_d:
            dist = np.where(same, _distance_matrix(pred, dets), np.inf)
            pairs = np.argwhere(dist <= cfg.max_distance)
            order = np.argsort(dist[pairs[:, 0], pairs[:, 1]], kind="stable")
            self._take(pairs[order], free_t, free_d, detections, now)
        return sorted(free_d)

    def _take(
        self,
        pairs: NDArray[np.intp],
        free_t: set[int],
        free_d: set[int],
        detections: Sequence[Detection],
        now: float,
    ) -> None:
        for ti, di in pairs.tolist():
            if ti in free_t and di in free_d:
                free_t.discard(ti)
                free_d.discard(di)
                self.tracks[ti].update(detections[di], now, self.config.min_hits)
