"""Cached detections of the uint8 COCO model on tests/data/vtest.avi, for the real-clip rule tests.

Regenerate after a model or detector change with ``python -m tests.rules.clip_detections``
(about 15 s on 2 cores); ``test_real_clip.py`` checks a few frames against the live detector.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from edgecam.types import Detection
from tests.helpers import DATA

CLIP = DATA / "vtest.avi"
CACHE = DATA / "vtest_detections.json.gz"
THRESHOLD = 0.3
"""Lower than the rules' scores, so the rules' own filters are exercised."""
FPS = 10.0


def load(path: Path = CACHE) -> list[list[Detection]]:
    """The cached detections, one list per frame of the clip."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        frames = json.load(stream)["frames"]
    return [
        [Detection(d[0], int(d[1]), float(d[2]), (d[3], d[4], d[5], d[6])) for d in frame]
        for frame in frames
    ]


def encode(detections: list[Detection]) -> list[list[object]]:
    """Compact JSON rows ``[label, class_id, score, xmin, ymin, xmax, ymax]``."""
    return [
        [d.label, d.class_id, round(d.score, 4), *(round(v, 5) for v in d.box)] for d in detections
    ]


def main() -> int:
    """Run the uint8 reference model on every frame of the clip and write the cache."""
    import cv2

    from edgecam.detect.config import ModelConfig
    from edgecam.detect.detector import Detector
    from edgecam.imaging import as_frame

    # The uint8 reference (coco-uint8), not the int8 default: the rule tests' expectations were
    # set on it, and test_int8_fidelity.py holds the int8 model to it on this very clip.
    reference = ModelConfig(name="coco-uint8", device="cpu", threshold=THRESHOLD)
    detector = Detector.from_config(reference)
    capture = cv2.VideoCapture(str(CLIP))
    frames: list[list[list[object]]] = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(encode(detector.detect(as_frame(bgr))))
    capture.release()
    detector.close()
    payload = {"clip": CLIP.name, "threshold": THRESHOLD, "frames": frames}
    with gzip.open(CACHE, "wt", encoding="utf-8") as stream:
        json.dump(payload, stream, separators=(",", ":"))
    print(f"{len(frames)} frames -> {CACHE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
