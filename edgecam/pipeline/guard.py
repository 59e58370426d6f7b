"""Detector health: a detector whose inference may fail or hang, rebuilt when it does.

On an Edge TPU, inference runs on a worker thread so the pipeline can give up on a call that
exceeds its time limit (a wedged Edge TPU never returns). The stuck worker is abandoned (a daemon
thread) and a new detector is built; with ``model.device: auto`` the new one falls back to the CPU
when the Edge TPU is gone, and says so. Repeated failures raise :class:`DetectorError`, so
systemd restarts the service.

On the CPU, inference is computation that no device can wedge, so it runs on the calling thread:
two thread hand-overs per frame cost 1 to 2 % of the fps on a CPU-bound machine. A CPU inference
that raises is rebuilt all the same; one that never returned would stop the pipeline's heartbeat,
and with it the watchdog pings, like any other stuck pipeline.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol, cast, runtime_checkable

from edgecam.detect.detector import DetectorInfo
from edgecam.errors import DetectorError
from edgecam.types import Detection, Image

log = logging.getLogger(__name__)


class DetectorLike(Protocol):
    """What the pipeline needs of a detector (the real one, a guarded one, a test fake)."""

    @property
    def info(self) -> DetectorInfo:
        """The runtime and device that run the model."""
        ...

    @property
    def last_invoke_ms(self) -> float:
        """Duration of the last inference in milliseconds."""
        ...

    def detect(self, image: Image) -> list[Detection]:
        """Detections in one BGR frame."""
        ...

    def close(self) -> None:
        """Release the model and its device."""
        ...


@runtime_checkable
class FittingDetector(DetectorLike, Protocol):
    """A detector whose input fitting can run on the capture threads (the real ones)."""

    def fitter(self) -> Callable[[Image], Image] | None:
        """A new callable that fits a frame to the model input, or None."""
        ...

    def detect(self, image: Image, fitted: Image | None = None) -> list[Detection]:
        """Detections in one BGR frame; ``fitted`` is the frame already fitted to the input."""
        ...


_Job = tuple[Image, Image | None, "Future[list[Detection]]"] | None


def _call(detector: DetectorLike, image: Image, fitted: Image | None) -> list[Detection]:
    # Only a FittingDetector hands out fitters, so only it gets fitted frames.
    if fitted is None:
        return detector.detect(image)
    return cast(FittingDetector, detector).detect(image, fitted)


class _Worker:
    """One thread that runs ``detector.detect`` for the pipeline, one call at a time."""

    def __init__(self, detector: DetectorLike, generation: int) -> None:
        self.detector = detector
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"detect-{generation}", daemon=True)
        self._thread.start()

    def submit(self, image: Image, fitted: Image | None) -> Future[list[Detection]]:
        """Queue one frame; the future completes with its detections or the error."""
        future: Future[list[Detection]] = Future()
        self._jobs.put((image, fitted, future))
        return future

    def retire(self) -> None:
        """Let the thread end (after a hung call returns, if ever) and close its detector."""
        self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            image, fitted, future = job
            try:
                future.set_result(_call(self.detector, image, fitted))
            except BaseException as err:  # the pipeline thread decides what to do with it
                future.set_exception(err)
        self.detector.close()


class GuardedDetector:
    """A detector rebuilt after an error, or on an Edge TPU after an inference over the limit."""

    def __init__(
        self,
        build: Callable[[], DetectorLike],
        time_limit: float,
        *,
        observe: Callable[[float], None] | None = None,
        max_failures: int = 3,
    ) -> None:
        self._build = build
        self.time_limit = time_limit
        self._observe = observe
        self.max_failures = max_failures
        self.rebuilds = 0
        self.failures = 0
        """Consecutive failed inferences (0 when the last one worked)."""
        self.last_error: str | None = None
        self._worker: _Worker | None = None
        self._detector = self._adopt(build())

    def _adopt(self, detector: DetectorLike) -> DetectorLike:
        """Use ``detector``: inline on the CPU, else through a worker thread with a time limit."""
        on_cpu = detector.info.device == "cpu"
        self._worker = None if on_cpu else _Worker(detector, self.rebuilds)
        return detector

    @property
    def info(self) -> DetectorInfo:
        """The current detector's runtime and device."""
        return self._detector.info

    @property
    def last_invoke_ms(self) -> float:
        """Duration of the last inference of the current detector."""
        return self._detector.last_invoke_ms

    @property
    def healthy(self) -> bool:
        """False after a failed inference until one succeeds again."""
        return self.failures == 0

    def fitter(self) -> Callable[[Image], Image] | None:
        """The current detector's input fitter, if it has one (the input size survives rebuilds)."""
        make = getattr(self._detector, "fitter", None)
        return make() if make is not None else None

    def detect(self, image: Image, fitted: Image | None = None) -> list[Detection]:
        """Detections in ``image``; an error or timeout rebuilds the detector and returns []."""
        worker = self._worker
        try:
            if worker is None:
                detections = _call(self._detector, image, fitted)
            else:
                detections = worker.submit(image, fitted).result(timeout=self.time_limit)
        except Exception as err:
            timed_out = worker is not None and isinstance(err, FutureTimeout)
            self._fail(
                f"inference took longer than {self.time_limit:g}s"
                if timed_out
                else f"inference failed: {type(err).__name__}: {err}"
            )
            return []
        self.failures = 0
        if self._observe is not None:
            self._observe(self.last_invoke_ms)
        return detections

    def _fail(self, reason: str) -> None:
        self.failures += 1
        self.last_error = reason
        if self.failures > self.max_failures:
            device = self.info.device
            fix = (
                "check the model file"
                if device == "cpu"
                else f"check the {device} device's connection and power, or set model.device: cpu"
            )
            raise DetectorError(f"detector failed {self.failures} times in a row ({reason}); {fix}")
        log.error("%s on %s: rebuilding the detector", reason, self.info.device)
        self.rebuild()

    def rebuild(self) -> None:
        """Replace the detector with a fresh one (a DetectorError if none can be built)."""
        before = self.info.device
        self._release()
        self.rebuilds += 1
        self._detector = self._adopt(self._build())
        after = self.info.device
        if before != after:
            log.warning("detector fell back from %s to %s", before, after)
        else:
            log.info("detector rebuilt on %s", after)

    @property
    def exclusive(self) -> bool:
        """True on an Edge TPU: the device must be released before a new detector can open it."""
        return self.info.device != "cpu"

    def switch(self, detector: DetectorLike, build: Callable[[], DetectorLike]) -> None:
        """Use ``detector`` (built elsewhere by ``build``) from now on; release the old one.

        Pipeline thread only. ``build`` is what later rebuilds after a failed inference use.
        """
        self._release()
        self._build = build
        self.failures = 0
        self._detector = self._adopt(detector)

    def switch_build(self, build: Callable[[], DetectorLike]) -> None:
        """Release the current detector, then build one with ``build``; pipeline thread only.

        For a detector on an exclusive device (an Edge TPU), where the new one cannot be built
        while the old one holds the device. If ``build`` fails, the old detector is built again
        and the error is raised: the caller keeps its old config.
        """
        old_build = self._build
        self._release()
        try:
            detector = build()
        except BaseException:
            self._detector = self._adopt(old_build())
            raise
        self._build = build
        self.failures = 0
        self._detector = self._adopt(detector)

    def close(self) -> None:
        """Stop the worker, if any, and release the detector."""
        self._release()

    def _release(self) -> None:
        if self._worker is not None:
            self._worker.retire()  # closes the detector on its thread once it is idle
        else:
            self._detector.close()
