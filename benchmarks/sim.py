"""A simulated accelerator: the real model's pre- and post-processing, with ``invoke`` replaced by
a sleep of the Coral USB Accelerator's published latency, which uses no CPU.

It shows what overlapping capture with inference buys on a Pi with a Coral, on a machine without
one: everything but the invoke is real work on the CPU.
"""

from __future__ import annotations

import time
from typing import Any

from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.detect.runtime import Runtime, find_runtime

CORAL_USB_LATENCY_S = 0.010
"""SSD MobileNet V2 on the USB Accelerator: about 10 ms per invoke on a Raspberry Pi."""


class SleepingInterpreter:
    """Wraps a real TFLite interpreter; ``invoke`` waits instead of computing."""

    def __init__(self, interpreter: Any, latency: float) -> None:
        self._interpreter = interpreter
        self._latency = latency
        self.invokes = 0

    def allocate_tensors(self) -> None:
        """Allocate, then run the model once for real so the outputs hold genuine values."""
        self._interpreter.allocate_tensors()
        self._interpreter.invoke()

    def invoke(self) -> None:
        """Wait the accelerator's latency without using the CPU."""
        self.invokes += 1
        time.sleep(self._latency)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._interpreter, name)


def sim_runtime(latency: float = CORAL_USB_LATENCY_S) -> Runtime:
    """A :class:`Runtime` whose interpreters sleep through ``invoke``."""
    real = find_runtime()

    def make(**kwargs: Any) -> SleepingInterpreter:
        return SleepingInterpreter(real.interpreter_class(**kwargs), latency)

    return Runtime("sim", f"{real.name}-{real.version}", make, real.load_delegate)


def make_detector(kind: str, threads: int = 2) -> Detector:
    """The bundled model on the CPU (``cpu``) or on the simulated accelerator (``sim``)."""
    config = ModelConfig(device="cpu", threads=threads)
    if kind == "sim":
        return Detector.from_config(config, runtime=sim_runtime())
    return Detector.from_config(config)
