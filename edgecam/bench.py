"""``edgecam bench``: the bare invoke loop against the real pipeline on the demo clip."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import numpy as np

from edgecam import bundled
from edgecam.config.models import Config
from edgecam.detect.config import ModelConfig, model_from_args
from edgecam.detect.detector import Detector
from edgecam.errors import ConfigError
from edgecam.pipeline.guard import GuardedDetector
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine


def run_bench(
    config_path: Path | None,
    iterations: int,
    frames: int,
    rounds: int = 5,
    *,
    model: str | None = None,
    every: bool = False,
) -> dict[str, object]:
    """Measure ``invoke_ms`` (bare loop) and ``pipeline_fps`` (decode, detect, rules).

    The two are measured in alternating rounds and each summarised by its median, so that a
    slow spell of a shared machine weighs on both alike and the ratio stays meaningful. With
    ``every``, each built-in model (on the CPU) takes its turn in every round.
    """
    from edgecam.config import load_config

    if every and (model or config_path):
        raise ConfigError("bench --all measures the built-ins: leave out --model and --config")
    config = load_config(config_path) if config_path else None
    models = _models(config, model, every)
    limit = (config or Config.model_validate(_demo(1))).health.invoke_timeout
    if any(m.device == "hailo" for m in models):
        raise ConfigError(
            "edgecam bench measures TFLite models (CPU, Edge TPU); for a Hailo, "
            "`hailortcli benchmark MODEL.hef` measures the HEF"
        )
    detectors = [Detector.from_config(m) for m in models]
    # The pipeline gets the detector through the same guard as in the service.
    guards = [GuardedDetector(lambda d=d: d, limit) for d in detectors]  # type: ignore[misc]
    bare: list[list[float]] = [[] for _ in detectors]
    piped: list[list[float]] = [[] for _ in detectors]
    per_round = max(1, frames // rounds)
    for _ in range(rounds):
        for i, detector in enumerate(detectors):
            bare[i].append(bare_invoke_ms(detector, max(1, iterations // rounds)))
            piped[i].append(_pipeline_fps(guards[i], per_round))
    rows = [
        _row(d, b, p, per_round * rounds, rounds)
        for d, b, p in zip(detectors, bare, piped, strict=True)
    ]
    for guard in guards:
        guard.close()  # closes the detector on the guard's thread
    if not every:
        return {**rows[0], "peak_rss_mb": peak_rss_mb()}
    names = list(bundled.BUILTINS)
    for name, row in zip(names, rows, strict=True):
        row["name"] = name
        row["peak_rss_mb"] = _peak_rss_alone(name)
    invoke = {name: statistics.median(b) for name, b in zip(names, bare, strict=True)}
    speedup = invoke["coco-uint8"] / invoke["coco"]
    return {"models": rows, "int8_speedup": round(speedup, 2), "rounds": rounds}


def _models(config: Config | None, model: str | None, every: bool) -> list[ModelConfig]:
    """The model sections to measure: every built-in, ``--model``, or the config's (default)."""
    if every:
        return [ModelConfig(name=name, device="cpu") for name in bundled.BUILTINS]
    if model:
        base = config.model.model_dump(exclude={"name", "path", "labels"}) if config else {}
        return [model_from_args(model, None, base)]
    return [config.model if config else ModelConfig()]


def _row(
    detector: Detector, bare: list[float], piped: list[float], frames: int, rounds: int
) -> dict[str, object]:
    invoke_ms = statistics.median(bare)
    pipeline_fps = statistics.median(piped)
    bare_fps = 1000.0 / invoke_ms
    info = detector.info
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
        "frames": frames,
        "rounds": rounds,
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    Linux's ``VmHWM`` is the peak of this program's own memory; ``ru_maxrss`` would also count
    the parent's size at the fork that started it, which exec does not reset.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(kib / 1024.0, 1)


def _peak_rss_alone(name: str) -> float:
    """Peak RSS of a short bench of one built-in in a process of its own (memory is per process)."""
    import json
    import subprocess
    import sys

    args = [
        "bench",
        "--json",
        "--model",
        name,
        "--iterations",
        "10",
        "--frames",
        "30",
        "--rounds",
        "1",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "edgecam", *args], capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_rss_mb"])


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
