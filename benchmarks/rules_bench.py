"""Tracking plus rules per frame: 20 moving detections, 10 rules of every kind, one camera.

Run: ``.venv/bin/python -m benchmarks.rules_bench`` (prints one JSON object; target < 0.5 ms).
"""

from __future__ import annotations

import json
import math
import statistics
import time
from typing import Any

import numpy as np

from edgecam.config.models import Config
from edgecam.rules.engine import RuleEngine
from edgecam.types import Detection, Frame

FRAMES = 2000
OBJECTS = 20


def config() -> Config:
    """One camera with 3 zones, 2 lines, a mask and 10 rules."""
    zones = {
        "left": {"polygon": [[0.0, 0.3], [0.45, 0.3], [0.45, 1.0], [0.0, 1.0]]},
        "right": {"polygon": [[0.55, 0.3], [1.0, 0.3], [1.0, 1.0], [0.55, 1.0]]},
        "centre": {"polygon": [[0.3, 0.4], [0.5, 0.3], [0.7, 0.4], [0.7, 0.8], [0.3, 0.8]]},
    }
    lines = {
        "gate": {"points": [[0.5, 0.1], [0.5, 0.95]]},
        "kerb": {"points": [[0.05, 0.6], [0.95, 0.62]]},
    }
    labels = ["person", "car"]
    rules: list[dict[str, Any]] = [
        {"name": "p_left", "kind": "presence", "zone": "left", "labels": labels},
        {"name": "p_any", "kind": "presence", "min_median_score": 0.5, "updates": True},
        {"name": "p_night", "kind": "presence", "zone": "centre", "max_aspect": 1.5,
         "schedule": {"from": "22:00", "to": "06:00", "timezone": "Europe/Berlin"}},
        {"name": "d_right", "kind": "dwell", "zone": "right", "min_dwell": "5s"},
        {"name": "d_centre", "kind": "dwell", "zone": "centre", "min_dwell": "2s"},
        {"name": "l_gate", "kind": "line", "line": "gate"},
        {"name": "l_kerb", "kind": "line", "line": "kerb", "direction": "in", "cooldown": "2s"},
        {"name": "c_gate", "kind": "count", "line": "gate", "reset": {"every": "daily"}},
        {"name": "c_left", "kind": "count", "zone": "left", "labels": labels},
        {"name": "a_car", "kind": "absence", "labels": ["car"], "zone": "right", "for": "1m"},
    ]  # fmt: skip
    return Config.model_validate(
        {
            "cameras": {
                "cam": {
                    "source": {"type": "file", "path": "x.avi"},
                    "zones": zones, "lines": lines,
                    "masks": [{"polygon": [[0.0, 0.0], [0.2, 0.0], [0.2, 0.1]]}],
                }
            },
            "rules": rules,
        }
    )  # fmt: skip


def scene(frames: int, objects: int, fps: float = 10.0) -> list[list[Detection]]:
    """Objects walking back and forth across the frame at different speeds and heights."""
    out = []
    for f in range(frames):
        t = f / fps
        dets = []
        for i in range(objects):
            x = 0.5 + 0.45 * math.sin(t * (0.2 + 0.02 * i) + i)
            y = 0.35 + 0.6 * (i / objects)
            label = "car" if i % 5 == 0 else "person"
            score = 0.55 + 0.4 * abs(math.sin(f * 0.1 + i))
            dets.append(Detection(label, 0, score, (x - 0.03, y - 0.12, x + 0.03, y)))
        out.append(dets)
    return out


def main() -> int:
    """Time ``RuleEngine.process`` per frame; print the figures as JSON."""
    engine = RuleEngine.from_config(config())
    image = np.zeros((480, 640, 3), np.uint8)
    detections = scene(FRAMES, OBJECTS)
    times = []
    events = 0
    for seq, dets in enumerate(detections):
        frame = Frame(image, seq, seq / 10.0, 1_700_000_000.0 + seq / 10.0, "cam")
        start = time.perf_counter()
        events += len(engine.process(frame, dets))
        times.append(time.perf_counter() - start)
    warm = times[100:]
    tracks = len(engine.camera("cam").scene.tracker.tracks)
    print(
        json.dumps(
            {
                "frames": FRAMES, "detections_per_frame": OBJECTS, "rules": 10,
                "live_tracks_at_end": tracks, "events": events,
                "median_ms": round(statistics.median(warm) * 1000, 4),
                "mean_ms": round(statistics.fmean(warm) * 1000, 4),
                "p95_ms": round(sorted(warm)[int(len(warm) * 0.95)] * 1000, 4),
            }
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
