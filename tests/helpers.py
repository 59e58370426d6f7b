"""Helpers for tests: running the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class CliResult:
    """Exit code and output of one ``edgecam`` run."""

    code: int
    out: str
    err: str


def run_edgecam(
    args: Sequence[str], *, cwd: Path | None = None, timeout: float = 120.0
) -> CliResult:
    """Run ``python -m edgecam ARGS`` in a subprocess, as a user would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "edgecam", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=False,
    )  # fmt: skip
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@contextmanager
def cpu_load(processes: int | None = None) -> Iterator[None]:
    """Busy loops at normal priority (default: one per core) for the duration of the block."""
    count = processes if processes is not None else os.cpu_count() or 2
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
