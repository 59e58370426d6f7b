"""What a reload hands the pipeline and takes back, and the counters of a run."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from edgecam.config.models import Config
from edgecam.pipeline.cameras import CameraState
from edgecam.publish.base import EventSink
from edgecam.rules.engine import RuleEngine


@dataclass(frozen=True, slots=True)
class NewParts:
    """What a reload hands the pipeline, taken in one step by ``Pipeline.swap``."""

    config: Config
    engine: RuleEngine
    sinks: Sequence[EventSink] | None = None
    """New sinks, or None to keep the running ones."""
    cameras: Sequence[CameraState] = ()
    """Cameras to attach (their captures start after the swap)."""
    detach: Collection[str] = ()
    """Names of the cameras to take out (removed, or replaced by one in ``cameras``)."""


@dataclass(frozen=True, slots=True)
class OldParts:
    """What :meth:`~edgecam.pipeline.loop.Pipeline.swap` took out, for the caller to close."""

    sinks: Sequence[EventSink]
    """The replaced sinks (empty when they were kept)."""
    cameras: Sequence[CameraState]
    """The detached cameras; their captures were asked to stop."""


@dataclass(slots=True)
class PipelineStats:
    """Counters of one run, for stats, ``bench`` and tests."""

    started: float = field(default_factory=time.monotonic)
    analysed: int = 0
    events: int = 0
    inference_ms: float = 0.0
    """Exponential moving average of the invoke time."""
