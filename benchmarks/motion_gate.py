"""The motion gate on a static stretch: a still frame repeated, then people entering.

Compares detection on every frame with detection behind the gate (each in its own process), and
times the gate alone on 640x480 frames.

    python -m benchmarks.motion_gate [--still 300] [--moving 100] [--detector cpu] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict

import numpy as np

from benchmarks.clips import static_then_people
from benchmarks.measure import Result, emit_child, in_child, measure, table
from benchmarks.sim import make_detector
from edgecam.camera.motion import MotionConfig, MotionGate
from edgecam.config.models import Config
from edgecam.rules.engine import RuleEngine
from edgecam.types import Frame

FPS = 10.0


def child(gated: bool, still: int, moving: int, kind: str, part: str) -> Result:
    """Detection (gated or not) over the still stretch or the whole sequence, in this process."""
    frames = list(static_then_people(still, moving))
    detector = make_detector(kind)
    config = Config.model_validate({
        "cameras": {"plaza": {"source": {"type": "image", "paths": ["unused.jpg"]}}},
        "rules": [{"name": "people", "kind": "presence", "labels": ["person"]}],
    })  # fmt: skip
    engine = RuleEngine.from_config(config)
    gate = MotionGate(MotionConfig(enabled=True, max_interval=5.0)) if gated else None
    chosen = frames[:still] if part == "still" else frames
    calls = 0
    starts: list[int] = []

    def run() -> int:
        nonlocal calls
        for seq, image in enumerate(chosen):
            now = seq / FPS
            if gate is None or gate.should_detect(image, now):
                calls += 1
                frame = Frame(image, seq, now, now, "plaza")
                events = engine.process(frame, detector.detect(image))
                starts.extend(e.frame_seq for e in events if e.type == "start")
        return len(chosen)

    name = f"{'gated' if gated else 'every frame'} ({part}, {kind})"
    result = measure(name, run)
    extra = {"detector_calls": calls, "person_starts": starts, "first_person_frame": still}
    return Result(**{**asdict(result), "extra": extra})


def gate_ms(frames: int = 500) -> float:
    """Milliseconds per 640x480 frame of the gate alone (frames alternate, so it always works)."""
    gate = MotionGate(MotionConfig(enabled=True))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (480, 640, 3), np.uint8) for _ in range(2)]
    for i in range(20):
        gate.should_detect(images[i % 2], i)
    start = time.perf_counter()
    for i in range(frames):
        gate.should_detect(images[i % 2], i)
    return (time.perf_counter() - start) / frames * 1000.0


def main() -> None:
    """Run the four measurements in child processes; print a table and one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--still", type=int, default=300)
    parser.add_argument("--moving", type=int, default=100)
    parser.add_argument("--detector", choices=["cpu", "sim"], default="cpu")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--gated", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--part", choices=["still", "all"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        emit_child(child(args.gated, args.still, args.moving, args.detector, args.part))
        return
    common = ["--still", str(args.still), "--moving", str(args.moving), "--detector", args.detector]
    results = [
        in_child("benchmarks.motion_gate", [*common, *gated, "--part", part])
        for part in ("still", "all")
        for gated in ([], ["--gated"])
    ]
    every_still, gated_still, every_all, gated_all = results
    report = {
        "results": [asdict(r) for r in results],
        "summary": {
            "gate_ms_640x480": round(gate_ms(), 3),
            "still_cpu_ratio": round(every_still.cpu_s_per_frame / gated_still.cpu_s_per_frame, 1),
            "person_starts_every_frame": every_all.extra["person_starts"],
            "person_starts_gated": gated_all.extra["person_starts"],
            "detector_calls_every_vs_gated": [
                every_all.extra["detector_calls"], gated_all.extra["detector_calls"],
            ],
        },
    }  # fmt: skip
    if not args.json:
        print(table(results))
        print(json.dumps(report["summary"]))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
