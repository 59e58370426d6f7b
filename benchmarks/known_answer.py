"""What the known-answer check adds to start-up: one image read, fitted, inferred and judged.

Each round starts a fresh process per built-in model (start-up is what is measured, so nothing is
warm), in alternating order, and reports from it: the time to build the detector without the check
(``Detector.from_config``), and the check itself (``run_check`` on the detector just built, as
``open_detector`` does). OpenCV's import, which the first frame pays anyway, is timed apart. The
figures are medians over the rounds.

    python -m benchmarks.known_answer [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from edgecam import bundled


def _child(name: str) -> dict[str, float]:
    """In a fresh process: build the CPU detector of ``name``, then check it; both in ms."""
    from edgecam.detect.choose import expected_for
    from edgecam.detect.config import ModelConfig
    from edgecam.detect.detector import Detector
    from edgecam.detect.selfcheck import run_check

    config = ModelConfig(name=name, device="cpu")
    start = time.perf_counter()
    detector = Detector.from_config(config, device="cpu")
    built = time.perf_counter()
    # OpenCV is imported by the first frame's fit in any case: timed apart from the check.
    import cv2  # noqa: F401

    imported = time.perf_counter()
    result = run_check(detector, expected_for(config))
    checked = time.perf_counter()
    assert result.passed, result.line
    return {
        "build_ms": (built - start) * 1000,
        "cv2_import_ms": (imported - built) * 1000,
        "check_ms": (checked - imported) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    """Alternate the built-ins over ``--rounds`` fresh processes; print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    names = list(bundled.BUILTINS)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.known_answer", "--child", name],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            samples[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows = {
        name: {
            key: round(statistics.median(s[key] for s in runs), 1)
            for key in ("build_ms", "cv2_import_ms", "check_ms")
        }
        for name, runs in samples.items()
    }
    for row in rows.values():
        row["check_share"] = round(row["check_ms"] / (row["build_ms"] + row["check_ms"]), 2)
    if args.json:
        print(json.dumps({"rounds": args.rounds, "models": rows}))
    else:
        for name, row in rows.items():
            print(f"{name:>15}: build {row['build_ms']} ms, check {row['check_ms']} ms "
                  f"({row['check_share']:.0%} of the two; OpenCV's import before it: "
                  f"{row['cv2_import_ms']} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
