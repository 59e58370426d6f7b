"""Measuring one benchmark mode: fps, CPU seconds per frame, peak RSS; each in its own process."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Result:
    """One measured mode."""

    name: str
    frames: int
    seconds: float
    fps: float
    cpu_s_per_frame: float
    peak_rss_mb: float
    extra: dict[str, object]


def measure(name: str, run: Callable[[], int], extra: dict[str, object] | None = None) -> Result:
    """Time ``run`` (which returns the frames it handled) in wall and process CPU time."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    frames = run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return Result(
        name=name,
        frames=frames,
        seconds=round(wall, 3),
        fps=round(frames / wall, 2),
        cpu_s_per_frame=round(cpu / max(1, frames), 5),
        peak_rss_mb=round(peak_rss_mb(), 1),
        extra=extra or {},
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def in_child(module: str, args: Sequence[str]) -> Result:
    """Run ``python -m module --child ARGS`` and read back its JSON result.

    A process per mode keeps peak RSS and CPU time of one mode from leaking into another.
    """
    return Result(**child_json(module, args))


def child_json(module: str, args: Sequence[str]) -> dict[str, Any]:
    """Run ``python -m module --child ARGS`` and parse the JSON object on its last line."""
    proc = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def emit_child(result: Result) -> None:
    """Print a child's result as the one JSON line its parent reads."""
    print(json.dumps(asdict(result)))


def table(results: Sequence[Result]) -> str:
    """A short fixed-width table of the results."""
    lines = [f"{'mode':<28}{'frames':>7}{'fps':>9}{'cpu s/frame':>13}{'peak RSS MB':>13}"]
    for r in results:
        lines.append(
            f"{r.name:<28}{r.frames:>7}{r.fps:>9.1f}{r.cpu_s_per_frame:>13.4f}{r.peak_rss_mb:>13.0f}"
        )
    return "\n".join(lines)
