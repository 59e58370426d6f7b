"""Throughput on the demo clip: the bare invoke loop, a naive sequential loop, and the pipeline.

Each on the CPU and on the simulated accelerator (``benchmarks/sim.py``).

    python -m benchmarks.throughput [--only cpu|sim] [--rounds 3] [--chunk 30] [--turns 30]
                                    [--threads 2] [--json]

Two measurements per detector:

- **Alone:** each mode in its own process, in alternating rounds, for fps, CPU seconds per frame
  and peak RSS; a mode's row is its median round.
- **Interleaved, for the ratios:** the three modes in one process, taking turns in short chunks
  (``--chunk`` frames, the order rotating each turn). The load of a shared machine changes from
  one second to the next; interleaving puts the same load on every mode, where separate runs a
  few seconds apart differ by up to 30 % on this 2-core VM. A ratio is a mode's frames over its
  time in all chunks, against the bare loop's; the quartiles of the per-turn ratios are beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from benchmarks.measure import Result, child_json, emit_child, in_child, measure, table
from benchmarks.sim import make_detector
from edgecam import bundled
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.pipeline.guard import GuardedDetector
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine

MODES = ("bare", "naive", "pipeline")
WARMUP = 5


@dataclass(frozen=True, slots=True)
class Loop:
    """A prepared mode: ``run(n)`` handles the next ``n`` frames and returns how many it did."""

    run: Callable[[int], int]
    close: Callable[[], None]


def prepare_bare(detector: Detector) -> Loop:
    """``invoke()`` again and again on one preprocessed frame: the limit."""
    from benchmarks.clips import read_clip

    detector.set_input(read_clip(limit=1)[0])
    for _ in range(WARMUP):
        detector.invoke()

    def run(frames: int) -> int:
        for _ in range(frames):
            detector.invoke()
        return frames

    return Loop(run, lambda: None)


def prepare_naive(detector: Detector) -> Loop:
    """Read, convert, resize, invoke and decode in one thread, as Coral's camera example does.

    That example converts the whole frame to RGB, resizes it to the input size, copies it into
    the input tensor, invokes and reads the outputs (``examples/camera`` in google-coral).
    """
    import cv2

    cap = cv2.VideoCapture(str(bundled.demo_clip()))
    size = (detector.input.width, detector.input.height)

    def step() -> None:
        ok, bgr = cap.read()
        if not ok:  # loop the clip
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = cap.read()
        rgb = np.asarray(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size), np.uint8)
        detector.set_input(rgb, rgb)
        detector.invoke()
        detector.read_detections()

    for _ in range(WARMUP):
        step()

    def run(frames: int) -> int:
        for _ in range(frames):
            step()
        return frames

    return Loop(run, cap.release)


def prepare_pipeline(detector: Detector) -> Loop:
    """The edgecam pipeline as the service runs it: capture thread, latest-frame slot, the
    detector behind the guard (inference on its own thread, with a time limit), rules."""
    config = Config.model_validate({
        "device": {"name": "bench"},
        "cameras": {"demo": {"source": {
            "type": "file", "path": str(bundled.demo_clip()), "pace": "every", "loop": True,
        }}},
        "rules": [{"name": "person", "kind": "presence", "labels": ["person"]}],
    })  # fmt: skip
    guarded = GuardedDetector(lambda: detector, config.health.invoke_timeout)
    pipeline = Pipeline(config, guarded, RuleEngine.from_config(config), [], stop=threading.Event())
    pipeline.start()
    pipeline.analyse(WARMUP)

    def close() -> None:
        pipeline.close()
        guarded.close()  # the worker closes the shared detector once it is idle

    return Loop(pipeline.analyse, close)


class TimedInvokes:
    """The detector's interpreter, its ``invoke()`` calls timed: where each mode's time goes.

    Every mode invokes through the same interpreter, so a mode's invoke seconds are what this
    adds up during its turns; the rest of its time is spent outside the invokes.
    """

    def __init__(self, interpreter: Any) -> None:
        self._inner = interpreter
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def invoke(self) -> None:
        """Invoke the model and count the time."""
        start = time.perf_counter()
        self._inner.invoke()
        self.seconds += time.perf_counter() - start


PREPARE: dict[str, Callable[[Detector], Loop]] = {
    "bare": prepare_bare,
    "naive": prepare_naive,
    "pipeline": prepare_pipeline,
}


def alone(mode: str, detector_kind: str, frames: int, threads: int) -> Result:
    """Measure one mode with one detector, alone in this process."""
    detector = make_detector(detector_kind, threads)
    loop = PREPARE[mode](detector)
    result = measure(f"{mode} ({detector_kind})", lambda: loop.run(frames), {})
    loop.close()
    detector.close()
    return result


def interleaved(detector_kind: str, chunk: int, turns: int, threads: int) -> dict[str, Any]:
    """The three modes taking turns in chunks of ``chunk`` frames; their fps and ratios."""
    detector = make_detector(detector_kind, threads)
    timed = TimedInvokes(detector.interpreter)
    detector._interpreter = timed  # a probe on the benchmark's own detector
    loops = {mode: PREPARE[mode](detector) for mode in MODES}
    seconds = dict.fromkeys(MODES, 0.0)
    invoking = dict.fromkeys(MODES, 0.0)
    frames = dict.fromkeys(MODES, 0)
    per_turn: dict[str, list[float]] = {mode: [] for mode in MODES}
    for turn in range(turns):
        order = MODES[turn % 3 :] + MODES[: turn % 3]
        fps: dict[str, float] = {}
        for mode in order:
            start, invoked = time.perf_counter(), timed.seconds
            done = loops[mode].run(chunk)
            took = time.perf_counter() - start
            seconds[mode] += took
            invoking[mode] += timed.seconds - invoked
            frames[mode] += done
            fps[mode] = done / took
        for mode in MODES:
            per_turn[mode].append(fps[mode] / fps["bare"])
    for loop in loops.values():
        loop.close()
    detector.close()
    total_fps = {mode: frames[mode] / seconds[mode] for mode in MODES}
    out: dict[str, Any] = {
        "detector": detector_kind, "threads": threads, "chunk": chunk, "turns": turns
    }  # fmt: skip
    for mode in ("pipeline", "naive"):
        q1, median, q3 = statistics.quantiles(per_turn[mode], n=4)
        out[f"{mode}_vs_bare"] = round(total_fps[mode] / total_fps["bare"], 3)
        out[f"{mode}_vs_bare_turns"] = {
            "q1": round(q1, 3), "median": round(median, 3), "q3": round(q3, 3)
        }  # fmt: skip
    out["fps"] = {mode: round(value, 2) for mode, value in total_fps.items()}
    out["ms_per_frame"] = {
        mode: {
            "invoke": round(invoking[mode] / frames[mode] * 1000, 3),
            "other": round((seconds[mode] - invoking[mode]) / frames[mode] * 1000, 3),
        }
        for mode in MODES
    }
    return out


def median_round(runs: list[Result]) -> Result:
    """The round with the median fps, its fps spread noted."""
    ordered = sorted(runs, key=lambda r: r.fps)
    middle = ordered[len(ordered) // 2]
    spread = {"fps_rounds": [r.fps for r in runs]}
    return Result(**{**asdict(middle), "extra": {**middle.extra, **spread}})


def ratio_table(ratios: list[dict[str, Any]]) -> str:
    """The interleaved ratios, one line per detector."""
    lines = [f"{'interleaved':<16}{'pipeline/bare':>15}{'(q1..q3)':>16}{'naive/bare':>13}"]
    for r in ratios:
        p, n = r["pipeline_vs_bare_turns"], r["naive_vs_bare_turns"]
        spread = f"{p['q1']:.3f}..{p['q3']:.3f}"
        lines.append(
            f"{r['detector']:<16}{r['pipeline_vs_bare']:>15.3f}{spread:>16}"
            f"{r['naive_vs_bare']:>13.3f}  (naive q1..q3 {n['q1']:.3f}..{n['q3']:.3f})"
        )
        per_frame = ", ".join(
            f"{mode} {ms['invoke']:.2f} + {ms['other']:.2f}"
            for mode, ms in r["ms_per_frame"].items()
        )
        lines.append(f"{'':<16}ms a frame, invoke + the rest: {per_frame}")
    return "\n".join(lines)


def main() -> None:
    """Run every mode alone and all interleaved, each in a child process; print the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames-cpu", type=int, default=150, help="frames per run alone")
    parser.add_argument("--frames-sim", type=int, default=400, help="frames per run alone")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds alone")
    parser.add_argument("--chunk", type=int, default=30, help="frames per interleaved turn")
    parser.add_argument("--turns", type=int, default=30, help="interleaved turns per mode")
    parser.add_argument("--only", choices=["cpu", "sim"], help="one detector kind only")
    parser.add_argument(
        "--threads", type=int, default=2, help="inference threads (model.threads; default 2)"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=[*MODES, "interleaved"], help=argparse.SUPPRESS)
    parser.add_argument("--detector", choices=["cpu", "sim"], help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.mode == "interleaved":
            print(json.dumps(interleaved(args.detector, args.chunk, args.turns, args.threads)))
        else:
            emit_child(alone(args.mode, args.detector, args.frames, args.threads))
        return
    kinds = [args.only] if args.only else ["cpu", "sim"]
    rounds: dict[str, list[Result]] = {}
    for _ in range(args.rounds):
        for kind in kinds:
            frames = args.frames_cpu if kind == "cpu" else args.frames_sim
            for mode in MODES:
                flags = ["--mode", mode, "--detector", kind, "--frames", str(frames)]
                result = in_child("benchmarks.throughput", [*flags, "--threads", str(args.threads)])
                rounds.setdefault(result.name, []).append(result)
    ratios = []
    for kind in kinds:
        ratios.append(child_json("benchmarks.throughput", [
            "--mode", "interleaved", "--detector", kind,
            "--chunk", str(args.chunk), "--turns", str(args.turns), "--threads", str(args.threads),
        ]))  # fmt: skip
    results = [median_round(runs) for runs in rounds.values()]
    report = {"results": [asdict(r) for r in results], "interleaved": ratios}
    if not args.json:
        print(table(results))
        print(ratio_table(ratios))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
