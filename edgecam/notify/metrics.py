"""Prometheus figures of the notifier, per target: sent, failed, pending, dropped, suppressed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgecam.notify.sink import NotifySink


class NotifyCollector(Collector):
    """Reads the figures of the notifier among ``sinks()`` at each scrape (none: no families)."""

    def __init__(self, sinks: Callable[[], Sequence[object]]) -> None:
        self._sinks = sinks

    def collect(self) -> Iterator[Metric]:
        """The metric families, labelled by target name (never its URL)."""
        rows: dict[str, dict[str, float]] = {}
        for sink in self._sinks():
            if isinstance(sink, NotifySink):
                rows.update({name: dict(row) for name, row in sink.figures().items()})
        if not rows:
            return
        sent = CounterMetricFamily(
            "edgecam_notify_sent", "Notifications the target accepted", labels=["target"]
        )
        failed = CounterMetricFamily(
            "edgecam_notify_failed", "Failed sends (each retry counts)", labels=["target"]
        )
        pending = GaugeMetricFamily(
            "edgecam_notify_pending", "Notifications waiting in the queue", labels=["target"]
        )
        dropped = CounterMetricFamily(
            "edgecam_notify_dropped",
            "Notifications given up: max_age passed, queue full, unreadable, or lost (disk and "
            "memory full)",
            labels=["target", "reason"],
        )
        suppressed = CounterMetricFamily(
            "edgecam_notify_suppressed",
            "Notifications not sent because of the target's cooldown or schedule",
            labels=["target", "reason"],
        )
        for name, row in sorted(rows.items()):
            sent.add_metric([name], row.get("sent", 0))
            failed.add_metric([name], row.get("failed", 0))
            pending.add_metric([name], row.get("pending", 0))
            for reason in ("max_age", "full", "unreadable", "lost"):
                dropped.add_metric([name, reason], row.get(f"dropped_{reason}", 0))
            for reason in ("cooldown", "schedule"):
                suppressed.add_metric([name, reason], row.get(f"suppressed_{reason}", 0))
        yield from (sent, failed, pending, dropped, suppressed)
