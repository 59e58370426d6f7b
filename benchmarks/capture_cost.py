"""What capture costs per frame on the demo clip: decoding (by ``decode_threads``) and the fit.

Decoding goes through edgecam's own file source; the fit is the resize and channel swap the
capture thread does for the detector's 300x300 input. CPU time is the process's, so the work
of FFmpeg's decoder threads counts; each figure is the best of ``--passes`` passes over the clip.

    python -m benchmarks.capture_cost [--threads 1 0] [--passes 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

from edgecam import bundled
from edgecam.camera.file import FileSource, FileSourceConfig
from edgecam.detect.preprocess import InputFitter


def decode_ms(threads: int, passes: int) -> tuple[float, float]:
    """Best CPU and wall ms per frame of reading the clip with ``threads`` decoder threads."""
    best_cpu = best_wall = float("inf")
    for _ in range(passes):
        source = FileSource("bench", FileSourceConfig(
            path=bundled.demo_clip(), pace="every", decode_threads=threads,
        ))  # fmt: skip
        source.open()
        cpu0, wall0, frames = time.process_time(), time.perf_counter(), 0
        while source.read() is not None:
            frames += 1
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        source.close()
        best_cpu, best_wall = min(best_cpu, cpu / frames), min(best_wall, wall / frames)
    return best_cpu * 1000, best_wall * 1000


def fit_ms(passes: int) -> float:
    """Best CPU ms per frame of fitting the clip's frames to a 300x300 input (stretch)."""
    from benchmarks.clips import read_clip

    frames = read_clip(limit=100)
    fit = InputFitter(300, 300, "stretch")
    best = float("inf")
    for _ in range(passes):
        cpu0 = time.process_time()
        for frame in frames:
            fit(frame)
        best = min(best, (time.process_time() - cpu0) / len(frames))
    return best * 1000


def main() -> None:
    """Print decode cost per thread count and the fit's cost."""
    import cv2

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 0],
                        help="decode_threads values to compare (0: one per core)")  # fmt: skip
    parser.add_argument("--passes", type=int, default=3, help="passes over the clip")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # as the pipeline runs it
    decode_ms(1, 1)  # warm-up: the first pass in a process pays for loading FFmpeg and the file
    decode: dict[str, dict[str, float]] = {}
    for threads in args.threads:
        cpu, wall = decode_ms(threads, args.passes)
        decode[str(threads)] = {"cpu_ms": round(cpu, 3), "wall_ms": round(wall, 3)}
    fit = round(fit_ms(args.passes), 3)
    if not args.json:
        for threads, cost in decode.items():
            print(f"decode_threads {threads}: {cost['cpu_ms']:.3f} ms CPU, "
                  f"{cost['wall_ms']:.3f} ms wall a frame")  # fmt: skip
        print(f"fit to 300x300: {fit:.3f} ms CPU a frame")
    print(json.dumps({"decode": decode, "fit_cpu_ms": fit}))


if __name__ == "__main__":
    main()
