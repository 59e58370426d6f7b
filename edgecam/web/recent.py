"""The recent events and their snapshots, in memory, for the page (a sink of the pipeline)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping

from edgecam.event import Event

MAX_EVENTS = 50
MAX_SNAPSHOTS = 20
"""Snapshots kept (the newest): about 50 kB each, so memory stays around a megabyte."""


class RecentEvents:
    """Keeps the newest events, each with the snapshot its rule published for it, if any.

    An :class:`~edgecam.publish.base.EventSink`: ``emit`` comes from the pipeline thread,
    ``snapshot`` from the snapshot thread (after the event it belongs to), reads from the web
    server. ``close`` keeps the contents, so the page still shows them after a reload.
    """

    def __init__(self, max_events: int = MAX_EVENTS, max_snapshots: int = MAX_SNAPSHOTS) -> None:
        self._events: deque[dict[str, object]] = deque(maxlen=max_events)
        self._snapshots: dict[str, bytes] = {}
        self._max_snapshots = max_snapshots
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        """Remember the event."""
        with self._lock:
            self._events.append(event.to_json())

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Attach the JPEG to the newest event of ``rule`` on ``camera`` that has none."""
        with self._lock:
            for event in reversed(self._events):
                if event["camera"] == camera and event["rule"] == rule and event["type"] != "end":
                    if event["id"] not in self._snapshots:
                        self._snapshots[str(event["id"])] = jpeg
                        self._trim()
                    return

    def _trim(self) -> None:
        live = {e["id"] for e in self._events}
        for key in [k for k in self._snapshots if k not in live]:
            del self._snapshots[key]
        while len(self._snapshots) > self._max_snapshots:
            del self._snapshots[next(iter(self._snapshots))]

    def stats(self, stats: Mapping[str, object]) -> None:
        """Not kept."""

    def close(self) -> None:
        """Nothing to release; the events stay for the page."""

    def events(self, limit: int = MAX_EVENTS) -> list[dict[str, object]]:
        """The newest first, each with ``snapshot`` (its URL) where one was kept."""
        with self._lock:
            out = []
            for event in list(self._events)[::-1][:limit]:
                entry = dict(event)
                if event["id"] in self._snapshots:
                    entry["snapshot"] = f"/api/events/{event['id']}/snapshot.jpg"
                out.append(entry)
            return out

    def snapshot_jpeg(self, event_id: str) -> bytes | None:
        """The snapshot kept for an event, or None."""
        with self._lock:
            return self._snapshots.get(event_id)
