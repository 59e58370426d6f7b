"""The sink interface: where the pipeline hands events, snapshots and stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from edgecam.publish.topics import RuleLike
from edgecam.rules.events import Event


class EventSink(Protocol):
    """A destination for what the pipeline produces (JSON lines, MQTT, ...).

    Calls come from the pipeline thread (``snapshot`` from the snapshot thread) and must not
    block on the network: a sink that talks to a broker queues the work (and makes it durable)
    and returns.
    """

    def emit(self, event: Event) -> None:
        """Deliver one event (at least once, for durable sinks)."""

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """The annotated JPEG of the latest event of ``rule`` on ``camera``."""

    def stats(self, stats: Mapping[str, object]) -> None:
        """Periodic service statistics (fps, inference ms, dropped frames, ...)."""

    def close(self) -> None:
        """Flush what can be flushed and release resources."""


@runtime_checkable
class Retargetable(Protocol):
    """A sink that keeps something per rule and camera (MQTT: discovery, states, counts)."""

    def retarget(self, cameras: Sequence[str], rules: Sequence[RuleLike]) -> None:
        """The rules or cameras changed (a reload): publish what is new, clear what is gone."""
