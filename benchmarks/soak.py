"""Soak test: run ``edgecam run`` on the demo clip, looped, and watch memory and threads.

    python benchmarks/soak.py --minutes 30
    python benchmarks/soak.py --minutes 5 --reload-every 3   # cameras added and removed by reloads

Samples the process's RSS and thread count (from /proc) and scrapes /healthz and /metrics while it
runs. With ``--reload-every`` the config alternates between the demo camera alone and the demo
camera plus two more (a still image and a second clip), with a SIGHUP each time. Passes if RSS
grows by at most 5 MB after the warm-up, the thread count never changes (within each of the two
configs), every reload was applied and every scrape was healthy; prints one JSON object.
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
from dataclasses import dataclass
from pathlib import Path

from edgecam import bundled

_LISTEN = re.compile(r"HTTP endpoint on http://([\d.]+):(\d+)/")


def _config(pace: str, fps: float, still: Path | None = None) -> str:
    """The soak's config; with ``still``, two more cameras: that image, and the clip again."""
    clip = bundled.demo_clip()
    more = (
        f"  still: {{source: {{type: image, paths: [{still}], loop: true, fps: 2}}}}\n"
        f"  again: {{source: {{type: file, path: {clip}, loop: true}}, fps: 3}}\n"
        if still is not None
        else ""
    )
    return (
        "device: {name: soak}\n"
        "cameras:\n"
        f"  demo: {{source: {{type: file, path: {clip}, loop: true, pace: {pace}}}, fps: {fps}}}\n"
        f"{more}"
        "rules:\n"
        "  - {name: person, kind: presence, labels: [person], min_score: 0.5}\n"
        'http: {listen: "127.0.0.1:0"}\n'
    )


def _still(work: Path) -> Path:
    """One frame of the demo clip as a JPEG, for the still camera."""
    import cv2

    cap = cv2.VideoCapture(str(bundled.demo_clip()))
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise SystemExit("cannot read the demo clip")
    path = work / "still.jpg"
    cv2.imwrite(str(path), frame)
    return path


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


SETTLE_S = 2.0
"""Seconds after a reload before threads are counted (capture threads start and end)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at the process."""

    elapsed: float
    rss_mb: float
    threads: int
    more_cameras: bool
    settled: bool


def soak(
    minutes: float, warmup: float, interval: float, *, pace: str, fps: float, reload_every: float
) -> dict[str, object]:
    """Run the soak and return its figures."""
    work = Path(tempfile.mkdtemp(prefix="edgecam-soak-"))
    config, log = work / "soak.yaml", work / "soak.log"
    config.write_text(_config(pace, fps))
    still = _still(work) if reload_every else None
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edgecam", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    samples: list[Sample] = []
    unhealthy = reloads = 0
    more = False
    try:
        base = _wait_for_port(log, proc)
        start = last_reload = time.monotonic()
        while (elapsed := time.monotonic() - start) < minutes * 60:
            if proc.poll() is not None:
                raise SystemExit(f"edgecam died:\n{log.read_text()[-2000:]}")
            if reload_every and time.monotonic() - last_reload >= reload_every:
                more = not more
                config.write_text(_config(pace, fps, still if more else None))
                proc.send_signal(signal.SIGHUP)
                reloads, last_reload = reloads + 1, time.monotonic()
            unhealthy += _scrape(base) != 200
            rss, threads = _proc_status(proc.pid)
            settled = time.monotonic() - last_reload >= SETTLE_S or not reload_every
            samples.append(Sample(elapsed, rss, threads, more, settled))
            time.sleep(interval)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    return _figures(
        samples, log, minutes=minutes, warmup=warmup, unhealthy=unhealthy, code=code,
        reloads=reloads,
    )  # fmt: skip


def _figures(
    samples: list[Sample],
    log: Path,
    *,
    minutes: float,
    warmup: float,
    unhealthy: int,
    code: int,
    reloads: int,
) -> dict[str, object]:
    """The soak's result; ``ok`` when memory and threads held and every reload applied."""
    after = [s for s in samples if s.elapsed >= warmup]
    base_rss = after[0].rss_mb
    growth = max(s.rss_mb for s in after) - base_rss
    # Threads per config: the demo camera alone, and with the two more cameras.
    threads = {
        name: counts
        for name, more in (("one_camera", False), ("three_cameras", True))
        if (counts := sorted({s.threads for s in after if s.settled and s.more_cameras == more}))
    }
    applied = log.read_text().count("reload done")
    steady = all(len(counts) <= 1 for counts in threads.values())
    return {
        "minutes": minutes,
        "warmup_s": warmup,
        "samples": len(samples),
        "rss_mb_start": round(samples[0].rss_mb, 1),
        "rss_mb_after_warmup": round(base_rss, 1),
        "rss_mb_end": round(after[-1].rss_mb, 1),
        "rss_growth_mb": round(growth, 2),
        "threads": threads,
        "reloads_sent": reloads,
        "reloads_applied": applied,
        "unhealthy_scrapes": unhealthy,
        "exit_code": code,
        "frames": _frames(log),
        "ok": growth <= 5.0 and steady and code == 0 and unhealthy == 0 and applied == reloads,
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
    parser.add_argument(
        "--reload-every", type=float, default=0.0, help="seconds between camera-changing reloads"
    )
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = soak(
        args.minutes, args.warmup, args.interval,
        pace=args.pace, fps=args.fps, reload_every=args.reload_every,
    )  # fmt: skip
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
