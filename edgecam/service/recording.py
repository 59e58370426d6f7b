"""Builds the events store and the clip recorder from the config; joins and counts their results."""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgecam.clips.recorder import ClipRecorder, clip_rules
from edgecam.clips.writer import ClipResult
from edgecam.config.models import Config
from edgecam.events.media import MediaStore
from edgecam.events.store import EventStore
from edgecam.publish.outbox import default_outbox_path

log = logging.getLogger(__name__)


@runtime_checkable
class ClipSink(Protocol):
    """A sink that publishes finished clips (MQTT: the retained ``clip`` topic, for HA)."""

    def clip(self, camera: str, rule: str, info: dict[str, object]) -> None:
        """A clip of ``rule`` on ``camera`` is written (or failed); ``info`` as in the API."""


@dataclass(slots=True)
class EventsParts:
    """The events store (None when ``events.enabled`` is false) and the clip recorder."""

    store: EventStore | None
    recorder: ClipRecorder | None


def state_directory() -> Path:
    """The service's state directory (systemd's, /var/lib/edgecam, or XDG state)."""
    return default_outbox_path().parent


def base_url(config: Config) -> str:
    """The web server's URL as clients use it (``events.base_url``, else from ``http.listen``)."""
    if config.events.base_url:
        return config.events.base_url.rstrip("/")
    host, port = config.http.address
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def build_events(config: Config, sinks: Callable[[], Sequence[object]]) -> EventsParts:
    """The store and recorder for ``config``; ``sinks()`` are told of each finished clip."""
    events = config.events
    if not events.enabled:
        return EventsParts(None, None)
    root = events.directory(state_directory())
    holder: list[EventStore] = []
    try:
        media = MediaStore(
            root,
            events.max_bytes,
            events.max_age,
            on_removed=lambda p: holder[0].forget_file(p) if holder else None,
        )
        store = EventStore(root, events.max_events, media)
    except (OSError, sqlite3.Error) as err:
        # Detection and delivery matter more than the record of them (a full disk, a read-only
        # directory): run on without the store, and say why.
        log.error(
            "events.path %s: cannot keep events there (%s); running without the events store "
            "and clips: make it writable, free some space, or set events.path", root, err,
        )  # fmt: skip
        return EventsParts(None, None)

    holder.append(store)
    rules = clip_rules(config.rules)  # a recorder even without them: a reload may add some

    def done(result: ClipResult) -> None:
        info = result.info()
        if result.path is not None:
            media.add(result.path)
        store.clip_written(result.job.ref.id, result.path, info)
        for sink in sinks():
            if isinstance(sink, ClipSink):
                sink.clip(result.job.camera, result.job.rule, info)

    recorder = ClipRecorder(
        config.clips,
        rules,
        root,
        base_url=base_url(config),
        on_result=done,
        min_free_bytes=events.min_free_bytes,
    )
    return EventsParts(store, recorder)


class EventsCollector(Collector):
    """Clips written, failed (by reason) and cut short; ring sizes; store write failures."""

    def __init__(self, parts: EventsParts) -> None:
        self._parts = parts

    def collect(self) -> Iterator[Metric]:
        """The metric families of the current counters."""
        store, recorder = self._parts.store, self._parts.recorder
        yield CounterMetricFamily(
            "edgecam_events_store_failures",
            "Events store writes that failed (disk full, I/O errors); the events still went out",
            0 if store is None else store.failures,
        )
        if store is not None:
            yield GaugeMetricFamily(
                "edgecam_events_store_degraded",
                "1 while the events store cannot write (events wait in memory)",
                1 if store.degraded else 0,
            )
            yield CounterMetricFamily(
                "edgecam_events_store_recovered",
                "Damaged events store files moved aside and salvaged",
                store.recovered,
            )
            yield CounterMetricFamily(
                "edgecam_events_store_lost",
                "Store writes dropped: memory full while the store could not write",
                store.lost,
            )
        if recorder is None:
            return
        stats = recorder.writer.stats
        yield CounterMetricFamily("edgecam_clips_written", "Clips written", stats.written)
        yield CounterMetricFamily(
            "edgecam_clips_truncated", "Clips written shorter than asked (they say why)",
            stats.truncated,
        )  # fmt: skip
        yield CounterMetricFamily(
            "edgecam_clip_bytes_written", "Bytes of clips written", stats.bytes
        )
        failed = CounterMetricFamily(
            "edgecam_clips_failed", "Clips not written, by reason", labels=["reason"]
        )
        for reason in ("disk_full", "error"):
            failed.add_metric([reason], stats.reasons.get(reason, 0))
        yield failed
        ring = GaugeMetricFamily(
            "edgecam_clip_buffer_bytes", "Bytes in the camera's clip ring", labels=["camera"]
        )
        skipped = CounterMetricFamily(
            "edgecam_clip_frames_skipped",
            "Frames the clip encoder skipped (over encode.fps, or busy)",
            labels=["camera"],
        )
        for name, cam in recorder.cameras.items():
            ring.add_metric([name], cam.ring.bytes)
            skipped.add_metric([name], 0 if cam.encoder is None else cam.encoder.skipped)
        yield ring
        yield skipped
