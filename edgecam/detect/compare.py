"""Compare two models' detections: recall and precision of one against a reference (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgecam.geometry import iou
from edgecam.types import Detection

REFERENCE_SCORE = 0.5
"""Reference detections at least this sure are the ones that must be found."""
MATCH_IOU = 0.5
MATCH_SCORE = 0.4
"""A match may score this low: quantization moves scores by up to about 0.1."""


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far a model's detections agree with a reference model's over a set of frames."""

    frames: int
    reference: int
    """Reference detections scoring at least :data:`REFERENCE_SCORE`."""
    found: int
    """Of those, how many the other model also found."""
    candidate: int
    """The other model's detections scoring at least :data:`REFERENCE_SCORE`."""
    confirmed: int
    """Of those, how many the reference also found."""

    @property
    def recall(self) -> float:
        """Share of the reference's detections the other model found (1.0 when none)."""
        return self.found / self.reference if self.reference else 1.0

    @property
    def precision(self) -> float:
        """Share of the other model's detections the reference also found (1.0 when none)."""
        return self.confirmed / self.candidate if self.candidate else 1.0


def matches(a: Detection, b: Detection) -> bool:
    """``b`` matches ``a``: same label, IoU >= :data:`MATCH_IOU`, ``b`` scores >= MATCH_SCORE."""
    return a.label == b.label and b.score >= MATCH_SCORE and iou(a.box, b.box) >= MATCH_IOU


def found_count(wanted: Sequence[Detection], among: Sequence[Detection]) -> int:
    """How many of ``wanted`` (each scoring >= REFERENCE_SCORE) have a match in ``among``."""
    return sum(
        1
        for w in wanted
        if w.score >= REFERENCE_SCORE and any(matches(w, other) for other in among)
    )


def agreement(
    reference: Sequence[Sequence[Detection]], candidate: Sequence[Sequence[Detection]]
) -> Agreement:
    """Recall and precision of ``candidate`` against ``reference``, frame by frame."""
    ref_total = found = cand_total = confirmed = 0
    for ref, cand in zip(reference, candidate, strict=True):
        ref_total += sum(1 for d in ref if d.score >= REFERENCE_SCORE)
        cand_total += sum(1 for d in cand if d.score >= REFERENCE_SCORE)
        found += found_count(ref, cand)
        confirmed += found_count(cand, ref)
    return Agreement(len(reference), ref_total, found, cand_total, confirmed)
