"""``edgecam bench``: the bare invoke loop against the real pipeline on the demo clip."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import numpy as np

from edgecam import bundled
from edgecam.config.models import Config
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.rules.engine import RuleEngine
from edgecam.service.guard import GuardedDetector
from edgecam.service.pipeline import Pipeline


def run_bench(
    config_path: Path | None, iterations: int, frames: int, rounds: int = 5
) -> dict[str, object]:
    """Measure ``invoke_ms`` (bare loop) and ``pipeline_fps`` (decode, detect, rules).

    The two are measured in alternating rounds and each summarised by its median, so that a
    slow spell of a shared machine weighs on both alike and the ratio stays meaningful.
    """
    from edgecam.config import load_config

    config = load_config(config_path) if config_path else None
    detector = Detector.from_config(config.model if config else ModelConfig())
    # The pipeline gets the detector through the same guard as in the service.
    limit = (config or Config.model_validate(_demo(1))).health.invoke_timeout
    guarded = GuardedDetector(lambda: detector, limit)
    bare: list[float] = []
    piped: list[float] = []
    per_round = max(1, frames // rounds)
    for _ in range(rounds):
        bare.append(bare_invoke_ms(detector, max(1, iterations // rounds)))
        piped.append(_pipeline_fps(guarded, per_round))
    invoke_ms = statistics.median(bare)
    pipeline_fps = statistics.median(piped)
    bare_fps = 1000.0 / invoke_ms
    info = detector.info
    guarded.close()  # closes the detector on the guard's thread
    return {
        "runtime": info.runtime,
        "runtime_version": info.runtime_version,
        "device": info.device,
        "threads": info.threads,
        "model": Path(info.model).name,
        "invoke_ms": round(invoke_ms, 3),
        "bare_fps": round(bare_fps, 2),
        "pipeline_fps": round(pipeline_fps, 2),
        "ratio": round(pipeline_fps / bare_fps, 3),
        "frames": per_round * rounds,
        "rounds": rounds,
    }


def bare_invoke_ms(detector: Detector, iterations: int) -> float:
    """Median ms of ``set_tensor``/``invoke``/``get_tensor`` on a fixed preprocessed input."""
    interp = detector.interpreter
    spec = detector.input
    data = np.zeros((1, spec.height, spec.width, 3), spec.dtype)
    outputs = detector.outputs
    indices = (outputs.boxes, outputs.classes, outputs.scores, outputs.count)
    times = []
    for i in range(iterations + 3):
        start = time.perf_counter()
        interp.set_tensor(spec.index, data)
        interp.invoke()
        for index in indices:
            interp.get_tensor(index)
        if i >= 3:  # the first invokes warm caches and XNNPACK's packing
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def _demo(frames: int) -> dict[str, object]:
    return {
        "device": {"name": "bench"},
        "cameras": {
            "demo": {
                "source": {
                    "type": "file", "path": str(bundled.demo_clip()), "pace": "every",
                    "loop": True,
                }
            }
        },
        "rules": [{"name": "person", "kind": "presence", "labels": ["person"]}],
    }  # fmt: skip


def _pipeline_fps(detector: GuardedDetector, frames: int) -> float:
    """Frames per second of the real pipeline on the demo clip, decode to rules, no waiting.

    The detector goes through the same guard as in the service (inference on its own thread
    with a time limit), so the figure includes that hand-over.
    """
    config = Config.model_validate(_demo(frames))
    pipeline = Pipeline(
        config, detector, RuleEngine.from_config(config), [], stop=threading.Event()
    )
    pipeline.start()
    try:
        pipeline.analyse(1)  # time from the first analysed frame: opening the file is not counted
        start = time.perf_counter()
        done = pipeline.analyse(frames)
        return done / (time.perf_counter() - start)
    finally:
        pipeline.close()
