"""The known-answer check: a detector proves on a bundled image that its outputs make sense.

Run once whenever a detector is built (start, reload, an Edge TPU or Hailo fallback). A wrong model
build, a label file that does not fit, or CPU kernels that misbehave (in an arm64 root under qemu
with SVE, the int8 COCO model returned all-zero network outputs: the same "person 0.50" boxes for
every image) all pass every other check silently.

- A built-in model must find the labels its own label file names on the image (a person and a
  horse for COCO, the person for ``ssdlite-person``) with a score of at least 0.5 and a box that
  overlaps the known one; a label file of the user's that renames them is caught here.
- Any model's outputs must not be degenerate: NaN, every score the same, or every box equal to
  an anchor (what an all-zero box regression decodes to).

The image (``edgecam/data/known_answer.jpg``, see SOURCE.md there) and what is on it are bundled.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from edgecam.types import Box, Detection, Image

PROBE_FLOOR = 0.3
"""Lowest score a probe reports: the check looks below the service's threshold."""
MIN_SCORE = 0.5
MIN_IOU = 0.5
ANCHOR_TOLERANCE = 1e-3

KNOWN_IMAGE = Path(__file__).resolve().parent.parent / "data" / "known_answer.jpg"
KNOWN_OBJECTS: dict[str, Box] = {
    # Coral's uint8 COCO model on the image (models/README.md), box = xmin, ymin, xmax, ymax.
    "person": (0.283, 0.245, 0.417, 0.886),
    "horse": (0.617, 0.318, 0.952, 0.806),
}


@dataclass(frozen=True, slots=True)
class Probe:
    """Everything a detector returned for one image: labelled detections and the raw rows."""

    detections: list[Detection]
    """Detections scoring at least :data:`PROBE_FLOOR`, boxes normalised to the image."""
    scores: NDArray[np.float32]
    """Every score row the model returned."""
    boxes: NDArray[np.float32]
    """Every box row, ``(ymin, xmin, ymax, xmax)`` normalised to the model input."""
    anchors: NDArray[np.float32] | None = field(default=None)
    """The SSD anchors as ``(ymin, xmin, ymax, xmax)`` rows, where the model has them."""


class Probing(Protocol):
    """A detector that can report every output for one image."""

    def probe(self, image: Image) -> Probe:
        """Run the model once on ``image``; return all it found."""
        ...


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one known-answer check."""

    passed: bool
    detail: str
    """What was found (passed) or what is wrong (failed), in a few words."""
    ms: float
    """Time of the check: image fitting, one inference, decoding and judging."""
    wrong_labels: bool = False
    """The known objects were found under other names: the label file does not fit."""

    @property
    def line(self) -> str:
        """One line for logs, ``/healthz`` and ``edgecam models``."""
        verdict = "passed" if self.passed else "FAILED"
        return f"{verdict} in {self.ms:.0f} ms: {self.detail}"


def expected_labels(model_labels: Collection[str]) -> list[str]:
    """The known objects a built-in model with these labels must find."""
    return [label for label in KNOWN_OBJECTS if label in model_labels]


def degenerate(probe: Probe) -> str | None:
    """Why the raw outputs cannot come from a working model, or None if they can."""
    scores, boxes = probe.scores, probe.boxes
    if np.isnan(scores).any() or np.isnan(boxes).any():
        return "the model returned NaN"
    if scores.size >= 3 and float(np.ptp(scores)) < 1e-6:
        return f"all {scores.size} scores are {float(scores[0]):.2f} (all-zero network outputs?)"
    anchors = probe.anchors
    if anchors is not None and len(boxes) >= 3:
        gaps = np.abs(boxes[:, None, :] - anchors[None, :, :]).max(axis=2).min(axis=1)
        if float(gaps.max()) < ANCHOR_TOLERANCE:
            return f"all {len(boxes)} boxes are anchors (all-zero box outputs?)"
    return None


def judge(probe: Probe, expected: Sequence[str]) -> CheckResult:
    """The verdict on a probe (``ms`` 0); ``expected`` labels must be found (built-ins only)."""
    problem = degenerate(probe)
    if problem is not None:
        return CheckResult(False, problem, 0.0)
    found = sorted(probe.detections, key=lambda d: -d.score)
    missing = [label for label in expected if not _found(found, label)]
    if missing:
        detail, renamed = _missing_detail(found, missing)
        return CheckResult(False, detail, 0.0, wrong_labels=renamed)
    shown = [f"{d.label} {d.score:.2f}" for d in found if d.score >= MIN_SCORE][:4]
    if not expected:
        return CheckResult(True, f"outputs not degenerate ({', '.join(shown) or 'nothing'})", 0.0)
    return CheckResult(True, ", ".join(shown), 0.0)


def _found(found: Sequence[Detection], label: str) -> bool:
    known = KNOWN_OBJECTS[label]
    return any(
        d.label == label and d.score >= MIN_SCORE and iou(d.box, known) >= MIN_IOU for d in found
    )


def _missing_detail(found: Sequence[Detection], missing: Sequence[str]) -> tuple[str, bool]:
    """Name what is missing and what was found in its place; True if all were renamed."""
    parts = []
    renamed = 0
    for label in missing:
        known = KNOWN_OBJECTS[label]
        there = [d for d in found if d.score >= MIN_SCORE and iou(d.box, known) >= MIN_IOU]
        if there:
            renamed += 1
            parts.append(f"the {label} was labelled {there[0].label!r} ({there[0].score:.2f})")
        else:
            parts.append(f"no {label} found (best: {_best(found)})")
    return "; ".join(parts), renamed == len(missing)


def _best(found: Sequence[Detection]) -> str:
    return ", ".join(f"{d.label} {d.score:.2f}" for d in found[:3]) or "nothing"


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two normalised ``(xmin, ymin, xmax, ymax)`` boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def known_image() -> Image:
    """The bundled known-answer image (BGR)."""
    from edgecam.imaging import read_image

    return read_image(KNOWN_IMAGE)


def run_check(
    detector: Probing, expected: Sequence[str], image: Image | None = None
) -> CheckResult:
    """Probe ``detector`` once on the known image and judge the outputs."""
    start = time.perf_counter()
    picture = known_image() if image is None else image
    try:
        verdict = judge(detector.probe(picture), expected)
    except Exception as err:  # any failure of the model is the check's finding
        verdict = CheckResult(False, f"inference failed: {type(err).__name__}: {err}", 0.0)
    return dataclasses.replace(verdict, ms=(time.perf_counter() - start) * 1000.0)
