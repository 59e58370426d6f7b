"""How the service builds its parts from a validated config: sinks, detector, HTTP endpoint.

:class:`Builders` is what the service (:mod:`edgecam.service.app`) is given; the CLI passes the real
ones, tests pass their own. Sinks are built idle (nothing connects): the service starts them
only once they are in use, so a reload can build every new part before it changes anything.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry

from edgecam.classify.config import ClassifierConfig
from edgecam.config.models import Config
from edgecam.errors import ConfigError
from edgecam.pipeline.guard import DetectorLike
from edgecam.pipeline.loop import Pipeline
from edgecam.publish.base import EventSink
from edgecam.service.recording import EventsParts
from edgecam.service.supervisor import ServiceState
from edgecam.web.recent import RecentEvents

log = logging.getLogger(__name__)


class Endpoint(Protocol):
    """A part that serves the running service (the web server): started, later closed."""

    def start(self) -> None:
        """Start serving (on its own thread)."""

    def close(self) -> None:
        """Stop serving and release what it holds (the port)."""


class Served(Protocol):
    """What an endpoint is built from: the running service as the web server sees it."""

    @property
    def config(self) -> Config:
        """The config in force."""

    @property
    def pipeline(self) -> Pipeline:
        """The frame loop (cameras, latest frames, detections)."""

    @property
    def state(self) -> ServiceState:
        """Health and each camera's status."""

    @property
    def registry(self) -> CollectorRegistry:
        """The metrics."""

    @property
    def recent(self) -> RecentEvents:
        """The latest events, for the page."""

    @property
    def config_path(self) -> Path | None:
        """The config file (None for the demo)."""

    @property
    def events(self) -> EventsParts:
        """The events store and clip recorder."""

    def reload(self) -> bool:
        """Re-read the config file and apply it; True if applied."""


EndpointFactory = Callable[[Served], Endpoint | None]
"""Builds the endpoint for a service (its config, state, pipeline, metrics); None: off."""


def web_endpoint(service: Served) -> Endpoint | None:
    """The web server of ``service.config.http``, or None when off or it cannot listen."""
    from edgecam.web.build import build_web

    state = service.state
    return build_web(
        service.config, service.pipeline, health=state.health, camera_status=state.camera_status,
        registry=service.registry, recent=service.recent, config_path=service.config_path,
        reload=service.reload,
        events=service.events.store,
    )  # fmt: skip


def build_detector(config: Config) -> DetectorLike:
    """The detector of ``config.model``, proven by the known-answer check.

    ModelError or DetectorError if none can be built (edgecam.detect.choose).
    """
    from edgecam.detect.choose import open_detector

    detector: DetectorLike = open_detector(config.model)
    return detector


@dataclass(frozen=True, slots=True)
class Builders:
    """The factories of the service's parts."""

    sinks: Callable[[Config], list[EventSink]]
    """Idle sinks for a config (started by the service)."""
    detector: Callable[[Config], DetectorLike] = build_detector
    endpoint: EndpointFactory = web_endpoint

    @classmethod
    def default(cls, events: str | None) -> Builders:
        """The real parts; ``events`` is ``--events`` (a file, ``-`` for stdout, or None)."""
        return cls(sinks=lambda config: build_sinks(config, events))


def build_sinks(config: Config, events: str | None) -> list[EventSink]:
    """Idle sinks for ``config``: MQTT first, the snapshot store, then ``--events``."""
    sinks: list[EventSink] = []
    try:
        if config.mqtt is not None:
            from edgecam.publish.mqtt import MqttSink

            # First: an event is durable in the outbox before any other sink has seen it.
            # A rule on a classified label gets a sub label sensor in Home Assistant.
            classified = classified_labels(config.classify)
            sinks.append(
                MqttSink(
                    config.mqtt,
                    config.device.name,
                    list(config.cameras),
                    config.rules,
                    classified=classified,
                )
            )
        if config.snapshots is not None:
            from edgecam.publish.snapshots import SnapshotStore

            sinks.append(SnapshotStore(config.snapshots))
        if config.notify.targets:  # notify: idle, its URLs read and parsed; queues open on start
            from edgecam.notify.sink import NotifySink

            sinks.append(NotifySink(config.notify, config.rules, device=config.device.name))
        if events:
            sinks.append(_events_sink(events))
    except BaseException:
        close_sinks(sinks, 1.0)  # nothing was started: this only releases files
        raise
    return sinks


def classified_labels(classify: Sequence[ClassifierConfig]) -> frozenset[str]:
    """The detector labels some classifier applies to (their tracks can get a sub label)."""
    return frozenset(label for classifier in classify for label in classifier.applies_to)


def _events_sink(events: str) -> EventSink:
    from edgecam.publish.jsonl import JsonLinesSink

    if events == "-":
        return JsonLinesSink(sys.stdout)
    try:
        stream = Path(events).open("a", encoding="utf-8")  # noqa: SIM115 (the sink owns it)
    except OSError as err:
        raise ConfigError(f"--events {events}: cannot open for writing: {err}") from err
    return JsonLinesSink(stream, owns_stream=True)


def close_sinks(sinks: Sequence[EventSink], timeout: float) -> None:
    """Close sinks in parallel, waiting at most ``timeout`` seconds in all."""
    threads = [
        threading.Thread(target=_close_one, args=(sink,), name="sink-close", daemon=True)
        for sink in sinks
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread, sink in zip(threads, sinks, strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning(
                "%s did not finish flushing within %gs; undelivered events stay in the "
                "outbox for the next start",
                type(sink).__name__,
                timeout,
            )


def _close_one(sink: EventSink) -> None:
    try:
        sink.close()
    except Exception:
        log.exception("closing %s failed", type(sink).__name__)
