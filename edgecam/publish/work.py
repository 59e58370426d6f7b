"""What the MQTT publisher thread is handed: paho's callbacks and the sink's own requests.

Everything reaches the publisher through one queue, so it alone touches the paho client's
publishing, the in-flight table and the retained states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edgecam.publish.client import ClientWork
from edgecam.publish.outbox import Outbox
from edgecam.publish.topics import RuleTarget


@dataclass(frozen=True, slots=True)
class Retain:
    """Keep ``payload`` as the topic's retained value (and publish it when connected)."""

    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Stats:
    """Publish the stats merged with the delivery figures."""

    stats: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Wake:
    """Look at the outbox again: an event was added."""


@dataclass(frozen=True, slots=True)
class Close:
    """Flush for ``flush_timeout``, then stop."""


@dataclass(frozen=True, slots=True)
class Retarget:
    """Follow a reload's cameras and rules."""

    cameras: tuple[str, ...]
    targets: tuple[RuleTarget, ...]


Work = ClientWork | Retain | Stats | Wake | Close | Retarget
"""Anything on the publisher's queue."""

_STATS_KEYS = (
    "outbox_depth", "outbox_dropped", "outbox_rejected", "events_lost", "events_unstored",
    "outbox_degraded", "outbox_recovered", "outbox_salvaged", "mqtt_connected",
)  # fmt: skip
"""The delivery figures the ``stats`` topic carries (docs/mqtt.md)."""
_STATS_NAMES = {"events_lost": "outbox_lost", "events_unstored": "outbox_unstored"}
"""Their documented names there, where they differ from the metric's."""


def delivery_figures(
    box: Outbox, published: int, rejected: int, connected: bool
) -> dict[str, object]:
    """Every delivery figure once, under its metric name."""
    return {
        "events_published": published,
        "outbox_depth": box.depth,
        "outbox_dropped": box.dropped,
        "outbox_rejected": rejected,
        "events_lost": box.lost,
        "events_unstored": box.unstored,
        "outbox_degraded": box.degraded,
        "outbox_recovered": box.recovered,
        "outbox_salvaged": box.salvaged,
        "mqtt_connected": connected,
    }


def as_metrics(figures: Mapping[str, object]) -> dict[str, float]:
    """The figures as ``/metrics`` numbers (``events_pending`` is the outbox's depth)."""
    out = {k: float(bool(v)) if not isinstance(v, int | float) else float(v)
           for k, v in figures.items() if k != "mqtt_connected"}  # fmt: skip
    out["events_pending"] = out["outbox_depth"]
    return out


def as_stats(figures: Mapping[str, object]) -> dict[str, object]:
    """The figures the ``stats`` topic carries, under its documented names."""
    return {_STATS_NAMES.get(k, k): v for k, v in figures.items() if k in _STATS_KEYS}
