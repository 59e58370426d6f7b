"""Decode SSD postprocess outputs into :class:`~edgecam.types.Detection` values (pure)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from edgecam.detect.preprocess import Placement
from edgecam.types import Detection


def decode(
    boxes: NDArray[np.float32],
    classes: NDArray[np.float32],
    scores: NDArray[np.float32],
    count: int,
    *,
    labels: Mapping[int, str],
    threshold: float,
    min_scores: Mapping[str, float],
    placement: Placement,
) -> list[Detection]:
    """Detections scoring at least the label's minimum (``min_scores``, else ``threshold``).

    ``boxes`` rows are ``(ymin, xmin, ymax, xmax)`` normalised to the model input, as the
    TFLite_Detection_PostProcess op writes them; the result is normalised to the frame.
    """
    floor = min([threshold, *min_scores.values()])
    out: list[Detection] = []
    n = min(count, len(scores))
    # Most of the op's rows score low: pick the few candidates in one array step.
    for i in np.flatnonzero(scores[:n] >= floor).tolist():
        score = float(scores[i])
        class_id = int(classes[i])
        label = labels.get(class_id, f"class{class_id}")
        if score < min_scores.get(label, threshold):
            continue
        ymin, xmin, ymax, xmax = boxes[i].tolist()
        out.append(Detection(label, class_id, score, placement.to_frame((xmin, ymin, xmax, ymax))))
    return out
