"""Detector health: errors and time-outs rebuild the detector; a lost TPU falls back to the CPU."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from edgecam.detect.detector import DetectorInfo
from edgecam.errors import DetectorError
from edgecam.pipeline.guard import GuardedDetector
from edgecam.types import Detection, Image

IMAGE = np.zeros((4, 4, 3), np.uint8)
PERSON = Detection("person", 0, 0.9, (0.1, 0.1, 0.5, 0.5))


def _info(device: str) -> DetectorInfo:
    return DetectorInfo("fake", "0", device, 1, "m.tflite", (300, 300))


@dataclass
class FakeDetector:
    """Behaves as told: ``mode`` is ok, raise or hang."""

    device: str
    mode: str = "ok"
    release: threading.Event = field(default_factory=threading.Event)
    closed: bool = False
    last_invoke_ms: float = 4.0
    threads: list[int] = field(default_factory=list)

    @property
    def info(self) -> DetectorInfo:
        return _info(self.device)

    def detect(self, image: Image) -> list[Detection]:
        self.threads.append(threading.get_ident())
        if self.mode == "raise":
            raise RuntimeError("USB transfer error")
        if self.mode == "hang":
            self.release.wait(30)
        return [PERSON]

    def close(self) -> None:
        self.closed = True


def test_healthy_detector_passes_detections_and_latency() -> None:
    seen: list[float] = []
    guard = GuardedDetector(lambda: FakeDetector("usb"), 5.0, observe=seen.append)
    assert guard.detect(IMAGE) == [PERSON]
    assert seen == [4.0] and guard.healthy and guard.rebuilds == 0
    guard.close()


def test_error_rebuilds_and_lost_tpu_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    built = [FakeDetector("usb", "raise"), FakeDetector("cpu")]
    guard = GuardedDetector(lambda: built.pop(0), 5.0)
    with caplog.at_level(logging.WARNING):
        assert guard.detect(IMAGE) == []
    assert not guard.healthy and "USB transfer error" in str(guard.last_error)
    assert guard.rebuilds == 1 and guard.info.device == "cpu"
    assert "detector fell back from usb to cpu" in caplog.text
    assert guard.detect(IMAGE) == [PERSON] and guard.healthy
    guard.close()


def test_hang_times_out_and_rebuilds() -> None:
    hung = FakeDetector("usb", "hang")
    built = [hung, FakeDetector("usb")]
    guard = GuardedDetector(lambda: built.pop(0), 0.2)
    assert guard.detect(IMAGE) == []
    assert "longer than 0.2s" in str(guard.last_error) and guard.rebuilds == 1
    assert guard.detect(IMAGE) == [PERSON]
    hung.release.set()  # the abandoned worker finishes and closes its detector
    guard.close()


def test_repeated_failures_give_up() -> None:
    guard = GuardedDetector(lambda: FakeDetector("cpu", "raise"), 5.0, max_failures=2)
    assert guard.detect(IMAGE) == [] and guard.detect(IMAGE) == []
    with pytest.raises(DetectorError, match="failed 3 times in a row"):
        guard.detect(IMAGE)
    guard.close()


def test_cpu_inference_runs_inline_and_an_edge_tpu_on_a_worker_thread() -> None:
    cpu, tpu = FakeDetector("cpu"), FakeDetector("usb")
    for fake in (cpu, tpu):
        guard = GuardedDetector(lambda fake=fake: fake, 5.0)  # type: ignore[misc]
        assert guard.detect(IMAGE) == [PERSON]
        guard.close()
    assert cpu.threads == [threading.get_ident()] and cpu.closed
    assert tpu.threads and tpu.threads != [threading.get_ident()]


def test_switch_build_on_an_edge_tpu_releases_first_and_restores_on_failure() -> None:
    old = FakeDetector("usb")
    guard = GuardedDetector(lambda: old, 5.0)
    assert guard.exclusive
    opened: list[FakeDetector] = []

    def broken() -> FakeDetector:
        raise DetectorError("no Edge TPU at usb:1")

    def again() -> FakeDetector:
        opened.append(FakeDetector("usb"))
        return opened[-1]

    guard._build = again  # what rebuilds the old config's detector
    with pytest.raises(DetectorError, match="usb:1"):
        guard.switch_build(broken)
    assert len(opened) == 1 and guard.detect(IMAGE) == [PERSON]  # the old config's, rebuilt
    new = FakeDetector("usb")
    guard.switch_build(lambda: new)
    assert guard.detect(IMAGE) == [PERSON] and new.threads
    guard.close()


def test_switch_uses_a_detector_built_elsewhere() -> None:
    old, new = FakeDetector("cpu"), FakeDetector("cpu")
    guard = GuardedDetector(lambda: old, 5.0)
    assert not guard.exclusive
    guard.switch(new, lambda: FakeDetector("cpu"))
    assert old.closed and guard.detect(IMAGE) == [PERSON] and new.threads
    guard.close()
    assert new.closed
