"""The sink interface: where the pipeline hands events, and the optional capabilities of a sink.

``EventSink`` is all a sink must have. A sink that does more says so by having the methods of
one of the capability protocols below; the service checks with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from edgecam.event import Event
from edgecam.publish.topics import RuleLike

DetectHandler = Callable[[str, bool], None]
"""Called with ``(camera, enabled)`` when a command pauses or resumes detection on a camera."""


@runtime_checkable
class EventSink(Protocol):
    """A destination for the events the pipeline produces (JSON lines, MQTT, ...).

    Calls come from the pipeline thread and must not block on the network: a sink that talks to
    a broker queues the work (and makes it durable) and returns.
    """

    def emit(self, event: Event) -> None:
        """Deliver one event (at least once, for durable sinks)."""

    def close(self) -> None:
        """Flush what can be flushed and release resources."""


@runtime_checkable
class Startable(Protocol):
    """A sink built idle that starts its threads or connections on :meth:`start`.

    The service builds sinks first and starts them only once they are in use, so a reload can
    build new ones and still keep the running ones when a part fails.
    """

    def start(self) -> None:
        """Start delivering (connect in the background)."""


@runtime_checkable
class TakesSnapshots(Protocol):
    """A sink that wants the annotated JPEG of alerts (MQTT, the disk store); snapshot thread."""

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """The annotated JPEG of the latest event of ``rule`` on ``camera``."""


@runtime_checkable
class TakesStats(Protocol):
    """A sink that publishes the periodic service statistics."""

    def stats(self, stats: Mapping[str, object]) -> None:
        """Statistics (fps, inference ms, dropped frames, ...), every few seconds."""


@runtime_checkable
class SendsCommands(Protocol):
    """A sink that receives detection commands (MQTT ``detect/set``) for the service."""

    on_detect_command: DetectHandler | None


@runtime_checkable
class Retargetable(Protocol):
    """A sink that keeps something per rule and camera (MQTT: discovery, states, counts)."""

    def retarget(self, cameras: Sequence[str], rules: Sequence[RuleLike]) -> None:
        """The rules or cameras changed (a reload): publish what is new, clear what is gone."""
