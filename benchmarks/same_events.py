"""Run one recording's config several times, the last run under a competing CPU load.

A recording analysed frame by frame (``pace: every``) carries video time, so every run gives
the same events however fast it goes. Each run is ``edgecam run --config FILE --events``;
events are compared without their ``id`` (unique per run by design; ``start_id`` becomes the
place of the start in the run). Exit 0 when all agree.

    python -m benchmarks.same_events CONFIG [--runs 3] [--load N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import cpu_load


def run_once(config: Path, out: Path) -> tuple[list[dict[str, object]], float]:
    """Events of one ``edgecam run`` (without ids) and its duration in seconds."""
    started = time.monotonic()
    cmd = [sys.executable, "-m", "edgecam", "run", "--config", str(config), "--events", str(out)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    where = {event["id"]: n for n, event in enumerate(events)}
    for event in events:
        # Ids are unique per run: an end names its start by the start's place in the run.
        event.pop("id")
        if "start_id" in event:
            event["start_id"] = where[event["start_id"]]
    return events, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    """Run, compare and print one JSON line per run and a verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--load", type=int, default=os.cpu_count() or 2, help="busy processes in the last run"
    )
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs):
            loaded = n == args.runs - 1 and args.load > 0
            with cpu_load(args.load if loaded else 0):
                events, seconds = run_once(args.config, Path(tmp) / f"run{n}.jsonl")
            results.append(events)
            line = {"run": n + 1, "load": args.load if loaded else 0, "seconds": round(seconds, 1),
                    "events": len(events), "loadavg": round(os.getloadavg()[0], 2)}  # fmt: skip
            print(json.dumps(line), flush=True)
    same = all(r == results[0] for r in results)
    print(json.dumps({"identical": same, "events": len(results[0])}))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
