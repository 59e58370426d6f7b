"""Per-track voting over several crops, and when a track deserves another crop (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edgecam.classify.model import IGNORED, ClassName

FIRST_RUNS = 2
"""Crops classified on a track's first sightings, before only a better view earns another."""
MIN_GAP = 0.25
"""Seconds (frame time) between two crops of one track: consecutive frames look the same."""
GROWTH = 1.25
"""A box this many times the area of the last classified one is a better view."""
SCORE_RISE = 0.05
"""A detection score this much above the last classified one's is a better view."""
TOP = 3
"""Classes reported with their averaged probabilities."""


@dataclass(frozen=True, slots=True)
class SubLabel:
    """A track's vote so far: the winning class (None below the threshold) and the top three."""

    label: str | None
    score: float
    top: tuple[tuple[str, float], ...]
    scientific: str | None
    runs: int


class TrackVotes:
    """One track's classification state: planning fields (pipeline thread) and sums (worker)."""

    __slots__ = ("best_area", "best_score", "last_at", "pending", "runs", "sent", "sums")

    def __init__(self) -> None:
        self.sent = 0
        """Crops handed to the worker (pipeline thread)."""
        self.best_area = 0.0
        self.best_score = 0.0
        self.last_at = float("-inf")
        self.pending = False
        """A crop of this track is queued or being classified (set by the pipeline, cleared by
        the worker); one at a time keeps a slow classifier from queueing a track's every frame."""
        self.sums: NDArray[np.float32] | None = None
        """Summed probabilities over the classified crops (worker thread)."""
        self.runs = 0

    def add(self, probabilities: NDArray[np.float32]) -> None:
        """Take one crop's probabilities (worker thread)."""
        if self.sums is None:
            self.sums = probabilities.astype(np.float32, copy=True)
        else:
            self.sums += probabilities
        self.runs += 1


def should_run(votes: TrackVotes, area: float, score: float, now: float, max_runs: int) -> bool:
    """Whether to classify this sighting: the first ones, then a bigger box or a higher score."""
    if votes.pending or votes.sent >= max_runs or now - votes.last_at < MIN_GAP:
        return False
    if votes.sent < FIRST_RUNS:
        return True
    return area >= votes.best_area * GROWTH or score >= votes.best_score + SCORE_RISE


def note_run(votes: TrackVotes, area: float, score: float, now: float) -> None:
    """Record that a crop of this sighting was queued (pipeline thread)."""
    votes.sent += 1
    votes.pending = True
    votes.last_at = now
    votes.best_area = max(votes.best_area, area)
    votes.best_score = max(votes.best_score, score)


def tally(
    sums: NDArray[np.float32], runs: int, classes: Sequence[ClassName], threshold: float
) -> SubLabel:
    """The vote: the class with the highest averaged probability, if it reaches ``threshold``."""
    mean = sums / max(runs, 1)
    order = np.argsort(mean)[::-1]
    top: list[tuple[str, float, str | None]] = []
    for index in order[: TOP + 4]:  # a few spare for ignored classes such as background
        name = classes[int(index)]
        if name.name.lower() in IGNORED:
            continue
        top.append((name.name, float(mean[index]), name.scientific))
        if len(top) == TOP:
            break
    best = top[0] if top and top[0][1] >= threshold else None
    return SubLabel(
        label=best[0] if best else None,
        score=round(best[1], 4) if best else 0.0,
        top=tuple((n, round(s, 4)) for n, s, _ in top),
        scientific=best[2] if best else None,
        runs=runs,
    )
