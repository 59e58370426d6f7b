"""Open the detector a model config asks for, proven by the known-answer check.

``model.device: auto`` walks the devices in order: a Hailo (when there is a HEF: ``model.hef``,
or for a built-in COCO model the one Raspberry Pi OS's ``hailo-models`` installs), an Edge
TPU, the CPU with XNNPACK, the CPU without XNNPACK. A device that is absent is skipped with a
warning; one whose detector fails the known-answer check (:mod:`edgecam.detect.selfcheck`) is
skipped with one ERROR line naming the problem. An explicit device (``cpu``, ``hailo``, ``usb``,
...) is the only one tried: when it is absent or fails the check, opening fails with one line
naming the problem and the fix (a :class:`ModelError` or :class:`DetectorError`: exit 1, a
runtime failure; config mistakes such as a ``.tflite`` given as ``model.hef`` are caught when
the config is read, exit 2).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from edgecam import bundled
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.detect.labels import read_labels
from edgecam.detect.runtime import Runtime, find_runtime
from edgecam.detect.selfcheck import CheckResult, expected_labels, run_check
from edgecam.errors import DetectorError, DeviceNotFoundError, ModelError
from edgecam.types import Image

if TYPE_CHECKING:
    from edgecam.detect.hailo import HailoDetector

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One device to try: its name in messages and how to build a detector on it."""

    name: str
    build: Callable[[], Detector | HailoDetector]


def candidates(
    config: ModelConfig, runtime: Runtime | None, hailo: ModuleType | None
) -> list[Candidate]:
    """The devices ``config.device`` allows, in the order they are tried."""

    def on_hailo() -> HailoDetector:
        from edgecam.detect.hailo import HailoDetector

        return HailoDetector(config, hailo)

    def tflite(device: str, xnnpack: bool = True) -> Callable[[], Detector]:
        return lambda: Detector.from_config(
            config, runtime or find_runtime(), device=device, xnnpack=xnnpack
        )

    device = config.device
    hef = config.hef_file()
    if device == "hailo" and hef is None:
        return [Candidate("hailo", _no_hef)]
    if device == "hailo":
        return [Candidate("hailo", on_hailo)]
    if device != "auto":
        return [Candidate(device, tflite(device))]
    chain = [Candidate("hailo", on_hailo)] if hef is not None else []
    chain.append(Candidate("Edge TPU", tflite("auto")))
    chain.append(Candidate("cpu", tflite("cpu")))
    chain.append(Candidate("cpu without XNNPACK", tflite("cpu", xnnpack=False)))
    return chain


def _no_hef() -> HailoDetector:
    paths = ", ".join(str(p) for p in bundled.SYSTEM_COCO_HEFS)
    raise ModelError(
        f"no HEF for the Hailo: set model.hef, or install Raspberry Pi OS's hailo-models "
        f"(sudo apt install hailo-models) for {paths}"
    )


def expected_for(config: ModelConfig) -> list[str]:
    """Labels the known-answer image must give: a built-in's own, none for the user's model."""
    builtin = config.builtin
    if builtin is None:
        return []
    return expected_labels(read_labels(bundled.model_file(builtin.labels_file)).values())


def open_detector(
    config: ModelConfig,
    *,
    runtime: Runtime | None = None,
    hailo: ModuleType | None = None,
    image: Image | None = None,
) -> Detector | HailoDetector:
    """A detector for ``config`` that passed the known-answer check (see the module docstring).

    ``runtime`` and ``hailo`` (a ``hailo_platform`` module) replace the ones found by import.
    """
    expected = expected_for(config)
    chain = candidates(config, runtime, hailo)
    failures: list[str] = []
    for index, candidate in enumerate(chain):
        last = index == len(chain) - 1
        try:
            detector = candidate.build()
        except DeviceNotFoundError as err:
            if len(chain) == 1:
                raise
            then = chain[index + 1].name
            then = "running on the CPU" if then == "cpu" else f"trying {then}"
            log.warning("no %s available, %s (%s)", candidate.name, then, err)
            continue
        result = run_check(detector, expected, image)
        # Earlier failures stay in the line (/healthz shows it): the service runs, but not
        # where the config would have it.
        line = result.line + "".join(f"; before: {failed} (FAILED)" for failed in failures)
        detector.info = dataclasses.replace(detector.info, check=line)
        if result.passed:
            log.info("known-answer check on %s %s", detector.info.where, result.line)
            return detector
        detector.close()
        failures.append(f"{candidate.name}: {result.detail}")
        if last or (result.wrong_labels and config.labels is not None):  # fails everywhere
            raise _refusal(config, candidate.name, result, len(chain) == 1, failures)
        log.error(
            "known-answer check failed on %s: %s; falling back to %s",
            candidate.name, result.detail, chain[index + 1].name,
        )  # fmt: skip
    raise DetectorError("no device could run the model")  # pragma: no cover (cpu is always last)


def _refusal(
    config: ModelConfig, where: str, result: CheckResult, explicit: bool, failures: list[str]
) -> ModelError:
    """The one-line error for a detector that failed its check where no fallback is left."""
    labels = f" with labels {config.labels}" if config.labels is not None else ""
    model = config.path or config.name or bundled.DEFAULT_MODEL
    if result.wrong_labels and config.labels is not None:
        fix = "the label file does not fit this model: remove model.labels or give its own"
    elif explicit:
        fix = (
            "set model.device: auto to fall back to another device, or check the model build "
            "(`edgecam detect --device cpu IMAGE`)"
        )
    else:
        fix = "the model gives no sane answer on any device: check the model file"
    tried = "" if explicit or len(failures) < 2 else f" (tried {'; '.join(failures)})"
    return ModelError(
        f"known-answer check failed for model {model}{labels} on {where}: "
        f"{result.detail}{tried}; {fix}"
    )
