"""What a classifier costs the pipeline: the demo clip with ``imagenet`` on ``person`` (every
person track classified, the worst case on this clip) against no classifier.

Rounds of off and on alternate on one detector, each a fresh pipeline over the same opening
frames of the demo clip, so machine load hits both alike. Per round: analysed fps, process CPU
seconds (every thread: capture, detector, classify worker) per frame, and for ``on`` the crops
and tracks classified. Reported: the median fps of each mode and their ratio, and the extra CPU
per classified track and per crop (from the medians of CPU per frame).

``--pace fast`` (default) reads frames as a live camera delivers them (a stale one is dropped):
the classifier runs beside the detector, off its path. ``--pace every`` analyses every frame of
a recording, and the pipeline waits for each frame's crops (recordings give the same events on
every run): the classifier's time then adds to the frame's.

    python -m benchmarks.classify_cost [--rounds 5] [--frames 300] [--pace fast] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from typing import Any

from edgecam import bundled
from edgecam.classify.config import ClassifierConfig
from edgecam.classify.stage import load_stage
from edgecam.config.models import Config
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine


def imagenet_on_person(budget: float | None) -> ClassifierConfig:
    """The worst case on the demo clip: every person track classified."""
    return ClassifierConfig(name="imagenet", labels=["person"], budget=budget)


def demo_config(pace: str) -> Config:
    """The demo clip, looped, with a presence rule on people (tracks are what gets classified)."""
    source = {"type": "file", "path": str(bundled.demo_clip()), "pace": pace, "loop": True}
    return Config.model_validate(
        {
            "device": {"name": "bench"},
            "cameras": {"demo": {"source": source}},
            "rules": [{"name": "person", "kind": "presence", "labels": ["person"]}],
        }
    )


def one_round(
    detector: Detector, pace: str, frames: int, classify: bool, budget: float | None = None
) -> dict[str, Any]:
    """One fresh pipeline over ``frames`` frames: fps, CPU per frame, the stage's counters."""
    config = demo_config(pace)
    classifier = imagenet_on_person(budget)
    stage = load_stage([classifier], config.model.threads) if classify else None
    pipeline = Pipeline(
        config, detector, RuleEngine.from_config(config), [], stop=threading.Event(),
        classify=stage,
    )  # fmt: skip
    pipeline.start()
    try:
        pipeline.analyse(1)  # opening the file and the first frame are not counted
        wall0, cpu0 = time.perf_counter(), time.process_time()
        done = pipeline.analyse(frames)
        if stage is not None:
            stage.apply(settle=True)  # the crops queued by these frames are part of their cost
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        pipeline.close()
    row: dict[str, Any] = {"fps": done / wall, "cpu_ms_per_frame": cpu * 1000.0 / done}
    row["process_cpu_s"] = cpu
    if stage is not None:
        row.update(stage.stats())
        row["budget"] = stage.entries[0].budget
    return row


def run(rounds: int, frames: int, pace: str, budget: float | None) -> dict[str, Any]:
    """Alternating rounds of off and on; medians, the fps ratio and the CPU per track."""
    detector = Detector.from_config(ModelConfig(device="cpu"))
    one_round(detector, pace, 30, classify=True, budget=budget)  # warm up: loads, packing
    off: list[dict[str, Any]] = []
    on: list[dict[str, Any]] = []
    for index in range(rounds):
        order = (False, True) if index % 2 == 0 else (True, False)
        for classify in order:
            row = one_round(detector, pace, frames, classify, budget)
            (on if classify else off).append(row)
    fps_off = statistics.median(r["fps"] for r in off)
    fps_on = statistics.median(r["fps"] for r in on)
    cpu_off = statistics.median(r["cpu_ms_per_frame"] for r in off)
    cpu_on = statistics.median(r["cpu_ms_per_frame"] for r in on)
    worker_cpu = sum(r["cpu_s"] for r in on)
    tracks = sum(r["tracks"] for r in on)
    crops = sum(r["classified"] for r in on)
    share = worker_cpu / sum(r["process_cpu_s"] for r in on)
    return {
        "pace": pace,
        "budget": on[0]["budget"],
        "frames_per_round": frames,
        "rounds": rounds,
        "fps_off": round(fps_off, 2),
        "fps_on": round(fps_on, 2),
        "fps_ratio": round(fps_on / fps_off, 3),
        "per_round_ratio": [round(b["fps"] / a["fps"], 3) for a, b in zip(off, on, strict=True)],
        "cpu_ms_per_frame_off": round(cpu_off, 2),
        "cpu_ms_per_frame_on": round(cpu_on, 2),
        "cpu_ratio": round(cpu_on / cpu_off, 3),
        "classifier_share_of_cpu": round(share, 4),
        "tracks_classified": tracks,
        "crops": crops,
        "classifier_cpu_ms_per_track": round(worker_cpu * 1000.0 / max(tracks, 1), 1),
        "classifier_cpu_ms_per_crop": round(worker_cpu * 1000.0 / max(crops, 1), 1),
        "classify_invoke_ms": round(statistics.median(r["invoke_ms"] for r in on), 2),
        "dropped_crops": sum(r["dropped"] for r in on),
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--pace", choices=["fast", "every"], default="fast")
    parser.add_argument(
        "--budget", type=float, help="the classifier's share of a core (default: edgecam's)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.rounds, args.frames, args.pace, args.budget)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
