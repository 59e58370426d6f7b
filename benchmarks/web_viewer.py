"""The pipeline's fps on the demo clip with and without viewers of the live stream.

    python -m benchmarks.web_viewer [--turns 12] [--chunk 40] [--viewers 1] [--json]

One process: the pipeline (CPU detector, the clip read as fast as it goes, looped), the web
server on a loopback port, and a viewer thread that holds ``/cameras/demo/stream.mjpg`` open and
reads every part. Turns alternate between no viewer and ``--viewers`` viewers (the order swaps
each pair), ``--chunk`` frames each, so both see the same load of a shared machine. The drop is
one minus the ratio of the frames per second with viewers to those without, over all turns; the
quartiles of the per-pair ratios are beside it. The process's CPU time per analysed frame (all
threads: capture, inference, encoding, serving) shows the cost even when other load on a shared
machine blurs the fps.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from typing import Any

from prometheus_client import CollectorRegistry

from edgecam import bundled
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.rules.engine import RuleEngine
from edgecam.service.pipeline import Pipeline
from edgecam.web.config import HttpConfig
from edgecam.web.live import PipelineView
from edgecam.web.server import WebServer

SETTLE = 0.5
"""Seconds after viewers join or leave before a turn is timed."""


class Viewers:
    """Threads that each hold the MJPEG stream open while ``watching`` is set."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.watching = threading.Event()
        self.stop = threading.Event()
        self.parts = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.watching.wait(0.1):
                continue
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            conn.request("GET", "/cameras/demo/stream.mjpg")
            reply = conn.getresponse()
            while self.watching.is_set() and not self.stop.is_set():
                self.parts += reply.read(65536).count(b"--edgecamframe")
            conn.close()

    def close(self) -> None:
        """End every viewer."""
        self.stop.set()
        for thread in self.threads:
            thread.join(5)


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
            if watch:
                watchers.watching.set()
            else:
                watchers.watching.clear()
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
    watchers.watching.clear()
    encoded = server.frames.encoded - encoded0
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
        "jpegs_encoded_per_s_watched": round(encoded / watched, 2) if watched else 0.0,
        "parts_received": watchers.parts,
        "frames_per_turn": chunk,
        "turns": turns,
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--chunk", type=int, default=40)
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
