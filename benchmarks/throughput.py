"""Throughput on the demo clip: the bare invoke loop, a naive sequential loop, and the pipeline.

Each on the CPU and on the simulated accelerator (``benchmarks/sim.py``), each in its own process.

    python -m benchmarks.throughput [--frames-cpu 150] [--frames-sim 400] [--rounds 3] [--json]

The modes run in alternating rounds and each reports its median round, so that a busy spell of a
shared machine weighs on every mode alike.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from benchmarks.measure import Result, emit_child, in_child, measure, table
from benchmarks.sim import make_detector
from edgecam import bundled
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.rules.engine import RuleEngine
from edgecam.service.pipeline import Pipeline

MODES = ("bare", "naive", "pipeline")
WARMUP = 5


def prepare_bare(detector: Detector, frames: int) -> Callable[[], int]:
    """``invoke()`` again and again on one preprocessed frame: the limit."""
    from benchmarks.clips import read_clip

    detector.set_input(read_clip(limit=1)[0])
    for _ in range(WARMUP):
        detector.invoke()

    def run() -> int:
        for _ in range(frames):
            detector.invoke()
        return frames

    return run


def prepare_naive(detector: Detector, frames: int) -> Callable[[], int]:
    """Read, convert, resize, invoke and decode in one thread, as Coral's camera example does."""
    import cv2

    cap = cv2.VideoCapture(str(bundled.demo_clip()))

    def step() -> None:
        ok, bgr = cap.read()
        if not ok:  # loop the clip
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = cap.read()
        detector.detect(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8))

    for _ in range(WARMUP):
        step()

    def run() -> int:
        for _ in range(frames):
            step()
        cap.release()
        return frames

    return run


def prepare_pipeline(detector: Detector, frames: int) -> Callable[[], int]:
    """The edgecam pipeline: capture thread, latest-frame slot, detector, rules."""
    config = Config.model_validate({
        "device": {"name": "bench"},
        "cameras": {"demo": {"source": {
            "type": "file", "path": str(bundled.demo_clip()), "pace": "every", "loop": True,
        }}},
        "rules": [{"name": "person", "kind": "presence", "labels": ["person"]}],
    })  # fmt: skip
    pipeline = Pipeline(
        config, detector, RuleEngine.from_config(config), [], stop=threading.Event(),
        max_frames=frames + WARMUP,
    )  # fmt: skip
    pipeline.start()
    while pipeline.stats.analysed < WARMUP:
        pipeline._round()

    def run() -> int:
        first = pipeline.stats.analysed
        return pipeline.run().analysed - first

    return run


PREPARE = {"bare": prepare_bare, "naive": prepare_naive, "pipeline": prepare_pipeline}


def child(mode: str, detector_kind: str, frames: int) -> Result:
    """Measure one mode with one detector in this process."""
    detector = make_detector(detector_kind)
    run = PREPARE[mode](detector, frames)
    result = measure(f"{mode} ({detector_kind})", run, {"detector": detector_kind})
    detector.close()
    return result


def median_round(runs: list[Result]) -> Result:
    """The round with the median fps, its fps spread noted."""
    ordered = sorted(runs, key=lambda r: r.fps)
    middle = ordered[len(ordered) // 2]
    spread = {"fps_rounds": [r.fps for r in runs]}
    return Result(**{**asdict(middle), "extra": {**middle.extra, **spread}})


def summary(results: list[Result]) -> dict[str, object]:
    """Ratios the issue asks for: pipeline and naive against the bare limit, per detector."""
    fps = {r.name: r.fps for r in results}
    out: dict[str, object] = {}
    for kind in ("cpu", "sim"):
        bare = fps.get(f"bare ({kind})")
        if bare:
            out[f"pipeline_vs_bare_{kind}"] = round(fps[f"pipeline ({kind})"] / bare, 3)
            out[f"naive_vs_bare_{kind}"] = round(fps[f"naive ({kind})"] / bare, 3)
    return out


def main() -> None:
    """Run every mode in a child process; print a table and one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames-cpu", type=int, default=150)
    parser.add_argument("--frames-sim", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per mode")
    parser.add_argument("--only", choices=["cpu", "sim"], help="one detector kind only")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--detector", choices=["cpu", "sim"], help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        emit_child(child(args.mode, args.detector, args.frames))
        return
    kinds = [args.only] if args.only else ["cpu", "sim"]
    rounds: dict[str, list[Result]] = {}
    for _ in range(args.rounds):
        for kind in kinds:
            frames = args.frames_cpu if kind == "cpu" else args.frames_sim
            for mode in MODES:
                result = in_child(
                    "benchmarks.throughput",
                    ["--mode", mode, "--detector", kind, "--frames", str(frames)],
                )
                rounds.setdefault(result.name, []).append(result)
    results = [median_round(runs) for runs in rounds.values()]
    report = {"results": [asdict(r) for r in results], "summary": summary(results)}
    if not args.json:
        print(table(results))
        print(json.dumps(report["summary"]))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
