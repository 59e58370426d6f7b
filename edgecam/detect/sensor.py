"""Detections a camera made on its own sensor (the AI Camera), held to the model's settings.

The camera side decodes the sensor's output tensors into boxes with the network's labels; here
the ``model`` section's threshold and ``min_scores`` apply to them as to any model's, and a
labels file given for the camera renames the classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from edgecam.detect.config import ModelConfig
from edgecam.detect.labels import read_labels
from edgecam.types import Detection


class SensorDetections:
    """Filters (and relabels) one camera's on-sensor detections; no model runs here."""

    def __init__(self, model: ModelConfig, labels: Path | None = None) -> None:
        self.threshold = model.threshold
        self.min_scores: Mapping[str, float] = {}
        self.apply(model)
        self.labels: Mapping[int, str] | None = read_labels(labels) if labels else None
        self.frames = 0
        """Frames whose detections came from the camera."""

    def apply(self, model: ModelConfig) -> None:
        """Take a (reloaded) ``model`` section's threshold and ``min_scores``."""
        self.threshold, self.min_scores = model.threshold, dict(model.min_scores)

    def __call__(self, found: Iterable[Detection]) -> list[Detection]:
        """The detections scoring at least their label's minimum."""
        self.frames += 1
        out = []
        for raw in found:
            det = raw
            if self.labels is not None:
                label = self.labels.get(raw.class_id, f"class{raw.class_id}")
                det = Detection(label, raw.class_id, raw.score, raw.box)
            if det.score >= self.min_scores.get(det.label, self.threshold):
                out.append(det)
        return out
