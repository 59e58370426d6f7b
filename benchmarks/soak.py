"""Soak test: run ``edgecam run`` on the demo clip, looped, and watch memory and threads.

    python benchmarks/soak.py --minutes 30

Samples the process's RSS and thread count (from /proc) and scrapes /healthz and /metrics while it
runs. Passes if RSS grows by at most ``--max-growth-mb`` after the warm-up and the thread count
never changes; prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from edgecam import bundled

_LISTEN = re.compile(r"HTTP endpoint on http://([\d.]+):(\d+)/")


def _config(pace: str, fps: float) -> str:
    clip = bundled.demo_clip()
    return (
        "device: {name: soak}\n"
        "cameras:\n"
        f"  demo: {{source: {{type: file, path: {clip}, loop: true, pace: {pace}}}, fps: {fps}}}\n"
        "rules:\n"
        "  - {name: person, kind: presence, labels: [person], min_score: 0.5}\n"
        'http: {listen: "127.0.0.1:0"}\n'
    )


def _proc_status(pid: int) -> tuple[float, int]:
    """RSS in MB and the number of threads of ``pid``."""
    text = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024  # type: ignore[union-attr]
    threads = int(re.search(r"Threads:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    return rss, threads


def _wait_for_port(log: Path, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if match := _LISTEN.search(log.read_text()):
            return f"http://{match.group(1)}:{match.group(2)}"
        if proc.poll() is not None:
            raise SystemExit(f"edgecam exited early:\n{log.read_text()}")
        time.sleep(0.2)
    raise SystemExit("edgecam did not start its HTTP endpoint in time")


def _scrape(base: str) -> int:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as reply:
        reply.read()
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def soak(
    minutes: float, warmup: float, interval: float, pace: str, fps: float
) -> dict[str, object]:
    """Run the soak and return its figures."""
    work = Path(tempfile.mkdtemp(prefix="edgecam-soak-"))
    config, log = work / "soak.yaml", work / "soak.log"
    config.write_text(_config(pace, fps))
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edgecam", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    samples: list[tuple[float, float, int]] = []
    unhealthy = 0
    try:
        base = _wait_for_port(log, proc)
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < minutes * 60:
            if proc.poll() is not None:
                raise SystemExit(f"edgecam died:\n{log.read_text()[-2000:]}")
            unhealthy += _scrape(base) != 200
            rss, threads = _proc_status(proc.pid)
            samples.append((elapsed, rss, threads))
            time.sleep(interval)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    after = [s for s in samples if s[0] >= warmup]
    base_rss = after[0][1]
    growth = max(s[1] for s in after) - base_rss
    thread_counts = sorted({s[2] for s in after})
    return {
        "minutes": minutes,
        "warmup_s": warmup,
        "samples": len(samples),
        "rss_mb_start": round(samples[0][1], 1),
        "rss_mb_after_warmup": round(base_rss, 1),
        "rss_mb_end": round(after[-1][1], 1),
        "rss_growth_mb": round(growth, 2),
        "threads": thread_counts,
        "unhealthy_scrapes": unhealthy,
        "exit_code": code,
        "frames": _frames(log),
        "ok": growth <= 5.0 and len(thread_counts) == 1 and code == 0 and unhealthy == 0,
    }


def _frames(log: Path) -> int | None:
    match = re.search(r"stopped: (\d+) frames analysed", log.read_text())
    return int(match.group(1)) if match else None


def main() -> int:
    """Command line: run the soak, print JSON, exit 0 if it passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds ignored for growth")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--pace", choices=["realtime", "fast"], default="realtime")
    parser.add_argument("--fps", type=float, default=10.0, help="detector fps limit")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = soak(args.minutes, args.warmup, args.interval, args.pace, args.fps)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
