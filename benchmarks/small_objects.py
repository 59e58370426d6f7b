"""Small objects: a 2x2 mosaic of vtest frames, full-frame detection against detection on regions.

Each mosaic frame (1536x1152) holds four scenes, so every person has a quarter of their area in a
1-frame view. The reference is the detector on each quarter alone (768x576, as the camera saw
it); recall is the share of those people (IoU >= 0.5, persons at the model's threshold) that a
mode finds on the whole mosaic. Modes run interleaved on every frame, so their ratios hold on a
loaded machine; CPU is ``time.process_time`` (all threads) per frame.

    python -m benchmarks.small_objects [--clip tests/data/vtest.avi] [--frames 60] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import numpy as np

from edgecam.camera.motion import MotionConfig, MotionGate
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.detect.regions import RegionConfig, RegionPlanner, detect_plan
from edgecam.geometry import iou
from edgecam.track.tracker import Tracker
from edgecam.types import Box, Detection, Image

CLIP = Path(__file__).parents[1] / "tests" / "data" / "vtest.avi"
OFFSETS = (0, 200, 400, 600)
"""Where in the clip each quarter's scene starts."""
FPS = 10.0


def mosaics(clip: Path, frames: int) -> Iterator[tuple[Image, list[Image]]]:
    """Mosaic frames and their four quarters: the clip at four offsets, side by side."""
    import cv2

    captures = [cv2.VideoCapture(str(clip)) for _ in OFFSETS]
    for capture, offset in zip(captures, OFFSETS, strict=True):
        capture.set(cv2.CAP_PROP_POS_FRAMES, offset)
    try:
        for _ in range(frames):
            quarters: list[Image] = [cast(Image, capture.read()[1]) for capture in captures]
            if any(q is None for q in quarters):
                return
            top, bottom = np.hstack(quarters[:2]), np.hstack(quarters[2:])
            yield np.ascontiguousarray(np.vstack([top, bottom])), quarters
    finally:
        for capture in captures:
            capture.release()


def people(detections: list[Detection]) -> list[Box]:
    """The person boxes."""
    return [d.box for d in detections if d.label == "person"]


def reference(detector: Detector, quarters: list[Image]) -> list[Box]:
    """People the detector finds on each quarter alone, in mosaic coordinates."""
    boxes = []
    for k, quarter in enumerate(quarters):
        dx, dy = (k % 2) * 0.5, (k // 2) * 0.5
        for b in people(detector.detect(quarter)):
            boxes.append((dx + b[0] / 2, dy + b[1] / 2, dx + b[2] / 2, dy + b[3] / 2))
    return boxes


def found(truth: list[Box], boxes: list[Box]) -> int:
    """How many of ``truth`` a box of ``boxes`` matches (IoU >= 0.5, each box used once)."""
    free = list(boxes)
    hits = 0
    for t in truth:
        best = max(free, key=lambda b: iou(t, b), default=None)
        if best is not None and iou(t, best) >= 0.5:
            free.remove(best)
            hits += 1
    return hits


class RegionMode:
    """The pipeline's region path: motion gate boxes and tracks into regions, then the tracker."""

    def __init__(self, detector: Detector, config: RegionConfig) -> None:
        self.detector = detector
        self.planner = RegionPlanner(config, detector.info.input_size)
        self.gate = MotionGate(MotionConfig(enabled=True))
        self.tracker = Tracker()

    def detect(self, image: Image, now: float) -> list[Detection]:
        """Detections on one mosaic frame at time ``now``."""
        self.gate.should_detect(image, now)
        interest = [t.predict(now) for t in self.tracker.tracks] + self.gate.moving_boxes()
        h, w = image.shape[:2]
        passes = self.planner.next((w, h), interest)
        dets = self.detector.detect(image) if passes is None else (
            detect_plan(self.detector.detect, image, passes)
        )  # fmt: skip
        self.tracker.update(now, dets)
        return dets


def run(args: argparse.Namespace) -> dict[str, object]:
    """Every mode on every mosaic frame, interleaved; recall and CPU per frame."""
    detector = Detector.from_config(ModelConfig(device="cpu"))
    config = RegionConfig(mode="on", size=args.size, max_regions=args.max_regions)
    regions = RegionMode(detector, config)
    hits = {"full_frame": 0, "regions": 0}
    cpu = {"per_quarter": 0.0, "full_frame": 0.0, "regions": 0.0}
    n = total = 0
    for n, (mosaic, quarters) in enumerate(mosaics(args.clip, args.frames), start=1):
        start = time.process_time()
        truth = reference(detector, quarters)
        cpu["per_quarter"] += time.process_time() - start
        full, seconds = timed(detector.detect, mosaic)
        cpu["full_frame"] += seconds
        region, seconds = timed(regions.detect, mosaic, n / FPS)
        cpu["regions"] += seconds
        total += len(truth)
        hits["full_frame"] += found(truth, people(full))
        hits["regions"] += found(truth, people(region))
    detector.close()
    frames = max(1, n)
    return {
        "frames": n,
        "mosaic": [1536, 1152],
        "people": total,
        "recall": {"per_quarter": 1.0, **{k: round(v / max(1, total), 3) for k, v in hits.items()}},
        "cpu_ms_per_frame": {k: round(v * 1000.0 / frames, 1) for k, v in cpu.items()},
        "inferences_per_frame": {
            "per_quarter": 4, "full_frame": 1, "regions": round(regions.planner.passes / frames, 2),
        },
        "region_config": config.model_dump(),
    }  # fmt: skip


def timed(call: Callable[..., list[Detection]], *args: object) -> tuple[list[Detection], float]:
    """The call's result and its CPU seconds (all threads)."""
    start = time.process_time()
    result = call(*args)
    return result, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    """Run the modes interleaved over the mosaic frames; print a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=float, default=RegionConfig().size)
    parser.add_argument("--max-regions", type=int, default=RegionConfig().max_regions)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import cv2

    cv2.setNumThreads(1)
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return 0
    recall, cpu, calls = (result[k] for k in ("recall", "cpu_ms_per_frame", "inferences_per_frame"))
    assert isinstance(recall, dict) and isinstance(cpu, dict) and isinstance(calls, dict)
    print(f"{result['frames']} frames, {result['people']} people (per-quarter detections)")
    print("| mode | person recall | CPU ms/frame | inferences/frame |\n|---|---|---|---|")
    for mode in ("per_quarter", "full_frame", "regions"):
        print(f"| {mode} | {recall[mode]} | {cpu[mode]} | {calls[mode]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
