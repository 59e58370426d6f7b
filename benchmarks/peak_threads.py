"""Peak threads and RSS of ``edgecam run`` with N cameras, each with clips, and a busy web page.

    python -m benchmarks.peak_threads --cameras 8 --seconds 45

The systemd unit's ``TasksMax=`` comes from this figure (docs/service.md). Every camera loops the
demo clip at 5 fps with a presence rule that records clips; 16 clients poll ``/metrics``,
``/api/cameras``, a camera's latest JPEG and ``/api/events`` the whole time. Samples
``/proc/<pid>/task`` and ``VmRSS`` every 50 ms; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from edgecam import bundled

_LISTEN = re.compile(r"HTTP endpoint on (http://[\d.]+:\d+/)")
_PATHS = ("metrics", "api/cameras", "cameras/cam0/latest.jpg", "api/events")


def _config(cameras: int, events: Path) -> str:
    clip = bundled.demo_clip()
    lines = "".join(
        f"  cam{i}: {{source: {{type: file, path: {clip}, loop: true}}, fps: 5}}\n"
        for i in range(cameras)
    )
    return (
        "device: {name: peak}\ncameras:\n" + lines + "rules:\n"
        "  - {name: people, kind: presence, labels: [person], clip: {pre: 5s, post: 5s}}\n"
        f'http: {{listen: "127.0.0.1:0"}}\nevents: {{path: {events}}}\n'
    )


def _clients(log: Path, until: float, count: int = 16) -> None:
    def poll() -> None:
        while time.monotonic() < until:
            found = _LISTEN.search(log.read_text())
            if found is None:
                time.sleep(0.2)
                continue
            for path in _PATHS:
                try:
                    with urllib.request.urlopen(found.group(1) + path, timeout=5) as reply:
                        reply.read()
                except OSError:
                    pass

    for _ in range(count):
        threading.Thread(target=poll, daemon=True).start()


def _sample(pid: int) -> tuple[int, int]:
    threads = sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return threads, rss


def main() -> None:
    """Run the service, sample it, print the peaks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=45.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = root / "edgecam.yaml"
        config.write_text(_config(args.cameras, root / "events"))
        log = root / "stderr.log"
        env = {**os.environ, "STATE_DIRECTORY": str(root / "state")}
        with log.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "edgecam", "run", "--config", str(config)],
                stderr=err,
                env=env,
            )
        until = time.monotonic() + args.seconds
        _clients(log, until - 2.0)
        threads = rss = 0
        while time.monotonic() < until and proc.poll() is None:
            try:
                now_threads, now_rss = _sample(proc.pid)
            except (OSError, StopIteration):
                break
            threads, rss = max(threads, now_threads), max(rss, now_rss)
            time.sleep(0.05)
        proc.terminate()
        code = proc.wait(30)
        clips = len(list((root / "events").rglob("*.mp4")))
    result = {
        "cameras": args.cameras,
        "peak_threads": threads,
        "peak_rss_mb": rss // 1024,
        "clips": clips,
        "exit": code,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
