"""Prometheus metrics of the events store and the clips, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgecam.events.service import EventsParts


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
