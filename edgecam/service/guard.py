"""Detector health: a detector whose inference may fail or hang, rebuilt when it does.

Inference runs on a worker thread so the pipeline can give up on a call that exceeds its time
limit (a wedged Edge TPU never returns). The stuck worker is abandoned (a daemon thread) and a new
detector is built; with ``model.device: auto`` the new one falls back to the CPU when the Edge TPU
is gone, and says so. Repeated failures raise :class:`DetectorError`, so systemd restarts
the service.
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
                # Only a FittingDetector hands out fitters, so only it gets fitted frames.
                if fitted is None:
                    future.set_result(self.detector.detect(image))
                else:
                    fitting = cast(FittingDetector, self.detector)
                    future.set_result(fitting.detect(image, fitted))
            except BaseException as err:  # the pipeline thread decides what to do with it
                future.set_exception(err)
        self.detector.close()


class GuardedDetector:
    """A detector with a time limit per inference, rebuilt after an error or a hang."""

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
        self._worker = _Worker(build(), 0)

    @property
    def info(self) -> DetectorInfo:
        """The current detector's runtime and device."""
        return self._worker.detector.info

    @property
    def last_invoke_ms(self) -> float:
        """Duration of the last inference of the current detector."""
        return self._worker.detector.last_invoke_ms

    @property
    def healthy(self) -> bool:
        """False after a failed inference until one succeeds again."""
        return self.failures == 0

    def fitter(self) -> Callable[[Image], Image] | None:
        """The current detector's input fitter, if it has one (the input size survives rebuilds)."""
        make = getattr(self._worker.detector, "fitter", None)
        return make() if make is not None else None

    def detect(self, image: Image, fitted: Image | None = None) -> list[Detection]:
        """Detections in ``image``; an error or timeout rebuilds the detector and returns []."""
        future = self._worker.submit(image, fitted)
        try:
            detections = future.result(timeout=self.time_limit)
        except FutureTimeout:
            self._fail(f"inference took longer than {self.time_limit:g}s")
            return []
        except Exception as err:
            self._fail(f"inference failed: {type(err).__name__}: {err}")
            return []
        self.failures = 0
        if self._observe is not None:
            self._observe(self.last_invoke_ms)
        return detections

    def _fail(self, reason: str) -> None:
        self.failures += 1
        self.last_error = reason
        if self.failures > self.max_failures:
            raise DetectorError(
                f"detector failed {self.failures} times in a row ({reason}); "
                "check the Edge TPU connection and power, or set model.device: cpu"
            )
        log.error("%s on %s: rebuilding the detector", reason, self.info.device)
        self.rebuild()

    def rebuild(self) -> None:
        """Replace the detector with a fresh one (a DetectorError if none can be built)."""
        old = self._worker
        old.retire()
        self.rebuilds += 1
        self._worker = _Worker(self._build(), self.rebuilds)
        before, after = old.detector.info.device, self.info.device
        if before != after:
            log.warning("detector fell back from %s to %s", before, after)
        else:
            log.info("detector rebuilt on %s", after)

    def close(self) -> None:
        """Stop the worker and release the detector."""
        self._worker.retire()
