"""Far-away people through the fake Pi camera: regions cut from the main stream against lores alone.

The recording is the test clip shrunk to a third (people about 27 px tall, 2.5 % of the height)
inside a 1920x1080 canvas, played by the shipped fake picamera2 as the camera's main stream; lores
is the model's input (300x300). The reference is the detector on the full-resolution 300x300 crop
of the canvas that holds the shrunk clip, frame by frame; each mode is scored by the share of
those people (persons at the model's threshold) that it finds on the same frames: ``lores`` is
the detector on the analysed (lores) frame alone, ``regions`` is what the pipeline found with
region crops from the main stream (motion and tracks place them), ``shifted`` is the detector on
another full-resolution crop, moved by (23, -77) pixels: the ceiling of any crop-based mode.

A person counts as found at IoU >= 0.3 (and, in brackets, 0.5): a person 27 px tall is boxed a
few pixels differently whenever the crop is placed differently, so two full-resolution crops
agree on about 85 % of people at IoU 0.3 but only about 65 % at 0.5. ``robust`` people are those
both full-resolution crops find (the rest sit at the detector's threshold). The first ``warmup``
analysed frames (the motion gate learning its background) are not scored.

    python -m benchmarks.pi_far_people [--frames 60] [--json]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from unittest import mock

import numpy as np

from edgecam.camera.fake_picamera2 import FakeCameraSystem
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.geometry import iou
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.types import Box, Detection, Image

CLIP = Path(__file__).parents[1] / "tests" / "data" / "vtest.avi"
CANVAS = (1920, 1080)
SCALE = 1 / 3
TILE_AT = (1250, 600)
"""Top-left corner of the shrunk clip in the canvas."""
CROP = 300
"""Side of the reference crop (the model's input: people at their full resolution)."""
RECORDING_FRAMES = 150
"""Frames recorded: enough for the frames scored, with those dropped on a loaded machine."""


def write_recording(path: Path, frames: int, clip: Path = CLIP) -> Path:
    """Write ``frames`` canvas frames (MJPG AVI at :data:`CANVAS`) with the shrunk clip in them."""
    import cv2

    source = cv2.VideoCapture(str(clip))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, CANVAS)
    canvas = np.full((CANVAS[1], CANVAS[0], 3), 110, np.uint8)
    x, y = TILE_AT
    try:
        for _ in range(frames):
            ok, frame = source.read()
            if not ok:
                break
            tile = cv2.resize(frame, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
            canvas[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
            writer.write(canvas)
    finally:
        writer.release()
        source.release()
    return path


def people(detections: list[Detection]) -> list[Box]:
    """The person boxes."""
    return [d.box for d in detections if d.label == "person"]


SHIFT = (23, -77)


def crop_people(detector: Detector, crop: Image, x: int, y: int) -> list[Box]:
    """The people in the full-resolution ``crop`` taken at ``(x, y)``, normalised to the canvas."""
    width, height = CANVAS
    return [
        ((x + b[0] * CROP) / width, (y + b[1] * CROP) / height,
         (x + b[2] * CROP) / width, (y + b[3] * CROP) / height)
        for b in people(detector.detect(crop))
    ]  # fmt: skip


def reference_crops(recording: Path, frames: int) -> list[tuple[Image, Image]]:
    """Per recorded frame: the full-resolution reference crop and the shifted one (decoded once;
    the detector runs on them only for the frames that are scored)."""
    import cv2

    capture = cv2.VideoCapture(str(recording))
    x, y = TILE_AT
    sx, sy = x + SHIFT[0], y + SHIFT[1]
    out = []
    for _ in range(frames):
        ok, frame = capture.read()
        if not ok:
            break
        out.append((
            cast(Image, np.ascontiguousarray(frame[y : y + CROP, x : x + CROP])),
            cast(Image, np.ascontiguousarray(frame[sy : sy + CROP, sx : sx + CROP])),
        ))  # fmt: skip
    capture.release()
    return out


MATCH_IOU = 0.3
"""IoU at which a box is the same (small) person."""


def matched(truth: list[Box], boxes: list[Box], threshold: float = MATCH_IOU) -> int:
    """How many of ``truth`` have a box of ``boxes`` (each used once) at IoU >= ``threshold``."""
    left = list(boxes)
    count = 0
    for box in truth:
        best = max(left, key=lambda b: iou(b, box), default=None)
        if best is not None and iou(best, box) >= threshold:
            left.remove(best)
            count += 1
    return count


@dataclass
class Score:
    """People of the reference found by each mode, over the analysed frames."""

    frames: int = 0
    reference: int = 0
    regions: int = 0
    lores: int = 0
    shifted: int = 0
    regions_strict: int = 0
    """Found at IoU >= 0.5."""
    lores_strict: int = 0
    shifted_strict: int = 0
    robust: int = 0
    """People that both full-resolution crops find: findable wherever the crop lies."""
    regions_robust: int = 0
    lores_robust: int = 0
    invokes: int = 0

    def recall(self, mode: str) -> float:
        """Share of the reference's people found by ``mode`` (``regions``, ``lores``, ...);
        ``regions_robust`` and ``lores_robust``: of the people both full-resolution crops find."""
        total = self.robust if mode.endswith("_robust") else self.reference
        return float(getattr(self, mode)) / max(1, total)

    def as_dict(self) -> dict[str, Any]:
        """The figures and recalls, for printing."""
        modes = ("regions", "lores", "shifted")
        return {
            **self.__dict__,
            **{f"{m}_recall": round(self.recall(m), 3) for m in modes},
            **{f"{m}_strict_recall": round(self.recall(f"{m}_strict"), 3) for m in modes},
            **{f"{m}_robust_recall": round(self.recall(f"{m}_robust"), 3) for m in modes[:2]},
            "invokes_per_frame": round(self.invokes / max(1, self.frames), 2),
        }

    def add(
        self, want: list[Box], regions: list[Box], lores: list[Box], shifted: list[Box]
    ) -> None:
        """Score one frame."""
        self.frames += 1
        self.reference += len(want)
        robust = [w for w in want if matched([w], shifted)]
        self.robust += len(robust)
        self.regions_robust += matched(robust, regions)
        self.lores_robust += matched(robust, lores)
        for name, boxes in (("regions", regions), ("lores", lores), ("shifted", shifted)):
            setattr(self, name, getattr(self, name) + matched(want, boxes))
            strict = f"{name}_strict"
            setattr(self, strict, getattr(self, strict) + matched(want, boxes, 0.5))


def camera_config(size: float | None) -> Config:
    """A Pi camera at :data:`CANVAS`, motion-placed regions of ``size`` model inputs (None: the
    default, ``size`` not set)."""
    return Config.model_validate({
        "cameras": {"pi": {
            "source": {"type": "picamera2", "size": list(CANVAS), "fps": 10},
            "motion": {"enabled": True, "min_area": 0.0005, "max_interval": "1s"},
            "regions": {} if size is None else {"size": size},
            "tracker": {"min_hits": 1},
        }},
    })  # fmt: skip


def score(
    detector: Detector, recording: Path, frames: int, size: float | None, warmup: int = 5
) -> Score:
    """Run the pipeline on the recording through the fake Pi camera; score the analysed frames."""
    crops = reference_crops(recording, 3 * frames + warmup + RECORDING_FRAMES)
    x, y = TILE_AT
    system = FakeCameraSystem(video=recording, paced=True)
    config = camera_config(size)
    result = Score()
    with mock.patch("edgecam.camera.picamera2.default_api", system.api):
        pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [])
        pipeline.start()
        cam = pipeline.cameras[0]
        try:
            while result.frames < frames and pipeline.analyse(1) == 1:
                frame = cam.last_frame
                if frame is None or frame.seq >= len(crops):
                    break
                if cam.analysed <= warmup:
                    continue
                found = people(list(cam.last_detections))
                lores = people(detector.detect(frame.image))
                crop, moved = crops[frame.seq]  # the fake shows one recorded frame per request
                truth = crop_people(detector, crop, x, y)
                shifted = crop_people(detector, moved, x + SHIFT[0], y + SHIFT[1])
                result.add(truth, found, lores, shifted)
        finally:
            result.invokes = cam.invokes
            pipeline.close()
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the table (or JSON) for the default region size (unset) and sizes 2, 1 and 0.75."""
    import tempfile

    from edgecam.detect.config import ModelConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    detector = Detector.from_config(ModelConfig(device="cpu"))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        recording = write_recording(Path(tmp) / "far.avi", max(RECORDING_FRAMES, 3 * args.frames))
        for size in (None, 2.0, 1.0, 0.75):
            name = "size unset (default)" if size is None else f"size {size:g}"
            rows[name] = score(detector, recording, args.frames, size).as_dict()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    head = (
        "regions",
        "frames",
        "people in a full-res crop (both crops)",
        "found: regions from main",
        "found: lores alone",
        "found: a shifted full-res crop",
        "invokes per frame",
    )
    print("| " + " | ".join(head) + " |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        cells = [
            f"{row[m]} = {row[f'{m}_recall']:.0%} (IoU 0.5: {row[f'{m}_strict_recall']:.0%}"
            + (f"; of both: {row[f'{m}_robust_recall']:.0%})" if m != "shifted" else ")")
            for m in ("regions", "lores", "shifted")
        ]
        print(f"| {name} | {row['frames']} | {row['reference']} ({row['robust']}) | "
              f"{' | '.join(cells)} | {row['invokes_per_frame']} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
