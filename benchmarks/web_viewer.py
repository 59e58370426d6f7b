"""The pipeline's fps on the demo clip with and without viewers of the live stream.

    python -m benchmarks.web_viewer [--turns 60] [--chunk 20] [--viewers 1] [--json]

One process runs the pipeline (CPU detector, the clip read as fast as it goes, looped) and the
web server on a loopback port; each viewer is a process of its own (as a browser is), started
once, that holds ``/cameras/demo/stream.mjpg`` open and reads every part while told to watch.
Turns alternate between no viewer and ``--viewers`` viewers (the order swaps each pair),
``--chunk`` frames each, so both see the same load of a shared machine. The drop is one minus
the ratio of the fps with viewers to the fps without, over all turns; the median and quartiles
of the per-pair ratios are beside it. The process's CPU time per analysed frame (all threads:
capture, inference, encoding, serving) and the measured cost of one viewer JPEG show the cost
even where other load on a shared machine blurs the fps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from prometheus_client import CollectorRegistry

from edgecam import bundled
from edgecam.config.http import HttpConfig
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.web.live import PipelineView
from edgecam.web.server import WebServer

STREAM = "/cameras/demo/stream.mjpg"
SETTLE = 0.5
"""Seconds after viewers join or leave before a turn is timed."""


READER = """
import http.client, socket, sys, threading
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = None

def read(reply):
    try:
        while reply.read(65536):
            pass
    except (OSError, ValueError, http.client.HTTPException):
        pass

for line in sys.stdin:
    if line.strip() == "on" and conn is None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("GET", path)
        threading.Thread(target=read, args=(conn.getresponse(),), daemon=True).start()
    elif line.strip() == "off" and conn is not None:
        if conn.sock is not None:  # None once the server ended the stream
            conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        conn = None
    print("ok", flush=True)
"""


class Viewers:
    """Viewer processes (as a browser is one) that read the MJPEG stream while watching.

    Started once and told to connect or hang up, so starting Python is not timed.
    """

    def __init__(self, port: int, count: int) -> None:
        command = [sys.executable, "-c", READER, "127.0.0.1", str(port), STREAM]
        self.procs = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]

    def watch(self, on: bool) -> None:
        """Connect every viewer, or hang them up; returns once they did."""
        for proc in self.procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("on\n" if on else "off\n")
            proc.stdin.flush()
            proc.stdout.readline()

    def close(self) -> None:
        """End the viewer processes."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(10)


def build() -> tuple[Pipeline, WebServer]:
    """The pipeline on the looped demo clip, and its web server on a free port."""
    config = Config.model_validate({
        "device": {"name": "bench"},
        "cameras": {"demo": {
            "source": {
                "type": "file", "path": str(bundled.demo_clip()), "pace": "every", "loop": True,
            },
            "lines": {"crossing": {"points": [[0.45, 0.25], [0.45, 0.65]]}},
        }},
        "rules": [{"name": "crossing", "kind": "line", "line": "crossing", "labels": ["person"]}],
    })  # fmt: skip
    detector = Detector.from_config(config.model)
    pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [])
    pipeline.start()
    pipeline.analyse(10)  # warm up
    view = PipelineView(pipeline, lambda: (True, "ok"), lambda: {"demo": "running"})
    server = WebServer(HttpConfig(listen="127.0.0.1:0"), view, CollectorRegistry())
    server.start()
    return pipeline, server


def run(turns: int, chunk: int, viewers: int) -> dict[str, Any]:
    """Alternate turns without and with viewers; fps of each and the drop."""
    pipeline, server = build()
    watchers = Viewers(server.port, viewers)
    seconds = {False: 0.0, True: 0.0}
    cpu = {False: 0.0, True: 0.0}
    frames = {False: 0, True: 0}
    ratios: list[float] = []
    encoded0 = server.frames.encoded
    watched = 0.0
    for pair in range(turns // 2):
        fps: dict[bool, float] = {}
        for watch in (False, True) if pair % 2 == 0 else (True, False):
            watchers.watch(watch)
            time.sleep(SETTLE)
            start, cpu0 = time.perf_counter(), time.process_time()
            done = pipeline.analyse(chunk)
            took = time.perf_counter() - start
            cpu[watch] += time.process_time() - cpu0
            watched += took if watch else 0.0
            seconds[watch] += took
            frames[watch] += done
            fps[watch] = done / took
        ratios.append(fps[True] / fps[False])
    watchers.watch(False)
    encoded = server.frames.encoded - encoded0
    encode_ms = _encode_ms(server)
    watchers.close()
    server.close()
    pipeline.close()
    alone, watched_fps = frames[False] / seconds[False], frames[True] / seconds[True]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else ratios * 3
    return {
        "viewers": viewers,
        "fps_without_viewer": round(alone, 2),
        "fps_with_viewer": round(watched_fps, 2),
        "drop_percent": round(100.0 * (1.0 - watched_fps / alone), 2),
        "pair_ratio_quartiles": [round(q, 3) for q in quartiles],
        "cpu_ms_per_frame_without": round(1000 * cpu[False] / frames[False], 1),
        "cpu_ms_per_frame_with": round(1000 * cpu[True] / frames[True], 1),
        "pair_ratio_median": round(statistics.median(ratios), 3),
        "jpegs_encoded_per_s_watched": round(encoded / watched, 2) if watched else 0.0,
        "encode_ms": round(encode_ms, 2),
        "encode_cpu_share_percent": round(100.0 * encode_ms / 1000.0 * encoded / watched, 2)
        if watched
        else 0.0,
        "frames_per_turn": chunk,
        "turns": turns,
    }


def _encode_ms(server: WebServer, count: int = 30) -> float:
    """Milliseconds one viewer JPEG takes (overlay drawn, encoded), the cache bypassed."""
    frames = server.frames
    start = time.process_time()
    for _ in range(count):
        frames._cache.clear()
        frames.jpeg("demo")
    return 1000.0 * (time.process_time() - start) / count


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--chunk", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.turns, args.chunk, args.viewers)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
