"""Prometheus metrics of a running service, on a registry passed in (never the global one).

Counters that the pipeline already keeps (frames, drops, events) are read at scrape time by a
collector, so nothing is counted twice; the inference latency is a histogram fed by the detector
guard. Sinks that deliver over the network (MQTT) report their figures through
:class:`ReportsDelivery` (or at least expose their ``outbox``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
"""Seconds: from an Edge TPU (a few ms) to a busy Pi 3 CPU (hundreds of ms)."""


@runtime_checkable
class ReportsDelivery(Protocol):
    """A sink that can say how delivery goes (the MQTT publisher)."""

    def delivery_metrics(self) -> Mapping[str, float]:
        """``events_published``, ``events_pending``, ``outbox_depth`` (any subset)."""
        ...


@runtime_checkable
class ReportsDegraded(Protocol):
    """A sink that can say why it works only in part (the MQTT outbox on a full disk)."""

    def degraded(self) -> Sequence[str]:
        """Reasons, empty when all is well."""
        ...


@runtime_checkable
class ReportsBroker(Protocol):
    """A sink connected to a broker (MQTT), for the per-broker ``connected`` gauge."""

    def broker_state(self) -> tuple[str, bool]:
        """``(host:port, connected)``."""
        ...


def broker_states(sinks: Sequence[object]) -> dict[str, bool]:
    """Each broker's ``connected`` (any sink connected counts, when two share a broker)."""
    states: dict[str, bool] = {}
    for sink in sinks:
        if isinstance(sink, ReportsBroker):
            name, connected = sink.broker_state()
            states[name] = states.get(name, False) or connected
    return states


def thread_count() -> int:
    """Threads of this process as the kernel (and systemd's ``TasksMax=``) counts them."""
    try:
        return sum(1 for _ in Path("/proc/self/task").iterdir())
    except OSError:
        return threading.active_count()  # no /proc: Python's own threads at least


def degraded_reasons(sinks: Sequence[object]) -> list[str]:
    """Why any sink works only in part right now (empty when none does)."""
    return [
        reason for sink in sinks if isinstance(sink, ReportsDegraded) for reason in sink.degraded()
    ]


@dataclass(frozen=True, slots=True)
class CameraFigures:
    """One camera's counters at scrape time."""

    name: str
    captured: int
    dropped: int
    analysed: int
    reconnects: int
    invokes: int = 0
    """Inferences the detector ran for the camera's frames."""
    sensor_frames: int = 0
    """Frames whose detections the camera made on its own sensor (the AI Camera)."""
    decoded: Mapping[str, int] = field(default_factory=dict)
    """Frames decoded, by stream: ``detect`` and (with a record stream) ``record``."""
    record_packets: int | None = None
    """Packets of the record stream put into the clip ring (None: the camera has none)."""
    record_reconnects: int = 0
    unconverted: int = 0
    """Detect-stream frames decoded but never converted: the detector would not take them."""


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """Everything the collector reports, read from the running service in one go."""

    cameras: Sequence[CameraFigures]
    events: int
    device: str
    runtime: str
    detector_rebuilds: int
    detector_healthy: bool
    delivery: Mapping[str, float]
    brokers: Mapping[str, bool] = field(default_factory=dict)
    """``host:port`` -> connected, for each broker a sink uses."""


_DELIVERY = {
    "events_published": ("counter", "Events the broker acknowledged"),
    "events_pending": ("gauge", "Events waiting for the broker's acknowledgement"),
    "outbox_depth": ("gauge", "Events stored in the durable outbox"),
    "events_lost": ("counter", "Events neither kept nor sent (disk and memory bound full)"),
    "events_unstored": ("counter", "Events the outbox could not write to disk (held in memory)"),
    "outbox_degraded": ("gauge", "1 while events cannot be written to the outbox"),
    "outbox_recovered": ("counter", "Damaged outbox files moved aside and salvaged"),
    "outbox_salvaged": ("counter", "Events read back from damaged outbox files"),
}


class ServiceCollector(Collector):
    """Turns :class:`ServiceFigures` into Prometheus metric families on each scrape."""

    def __init__(self, read: Callable[[], ServiceFigures]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        """The metric families of the current figures."""
        figures = self._read()
        per_camera = (
            ("frames_captured", "Frames read from the camera", "captured"),
            ("frames_dropped", "Frames replaced before the detector took them", "dropped"),
            ("frames_analysed", "Frames the detector analysed", "analysed"),
            ("camera_reconnects", "Times the camera was reopened after a failure", "reconnects"),
            ("detector_invokes", "Inferences the detector ran for the camera", "invokes"),
            ("sensor_detections", "Frames the camera detected on its own sensor", "sensor_frames"),
        )
        for name, doc, attr in per_camera:
            family = CounterMetricFamily(f"edgecam_{name}", doc, labels=["camera"])
            for cam in figures.cameras:
                family.add_metric([cam.name], getattr(cam, attr))
            yield family
        yield from _stream_families(figures.cameras)
        yield CounterMetricFamily("edgecam_events", "Events produced by the rules", figures.events)
        info = GaugeMetricFamily(
            "edgecam_detector_info", "The detector in use (value 1)", labels=["device", "runtime"]
        )
        info.add_metric([figures.device, figures.runtime], 1)
        yield info
        yield GaugeMetricFamily(
            "edgecam_detector_healthy", "1 if the last inference worked", figures.detector_healthy
        )
        yield CounterMetricFamily(
            "edgecam_detector_rebuilds", "Detector rebuilds after errors", figures.detector_rebuilds
        )
        connected = GaugeMetricFamily(
            "edgecam_mqtt_connected", "1 while the broker is connected", labels=["broker"]
        )
        for broker, up in figures.brokers.items():
            connected.add_metric([broker], 1 if up else 0)
        yield connected
        yield GaugeMetricFamily(
            "edgecam_threads", "Threads of the process (systemd's TasksMax counts them)",
            thread_count(),
        )  # fmt: skip
        for key, value in figures.delivery.items():
            if key in _DELIVERY:
                kind, doc = _DELIVERY[key]
                cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                yield cls(f"edgecam_{key}", doc, value)


def _stream_families(cameras: Sequence[CameraFigures]) -> Iterator[Metric]:
    """Decoder frames by stream, and the record streams' packets and reconnects."""
    decoded = CounterMetricFamily(
        "edgecam_frames_decoded", "Frames the decoder produced, by stream (detect, record)",
        labels=["camera", "stream"],
    )  # fmt: skip
    packets = CounterMetricFamily(
        "edgecam_record_packets", "Record-stream packets put into the clip ring (not decoded)",
        labels=["camera"],
    )  # fmt: skip
    reconnects = CounterMetricFamily(
        "edgecam_record_reconnects", "Times the record stream was reopened after a failure",
        labels=["camera"],
    )  # fmt: skip
    unconverted = CounterMetricFamily(
        "edgecam_frames_unconverted",
        "Detect-stream frames decoded but not converted or fitted (over the camera's fps cap)",
        labels=["camera"],
    )
    for cam in cameras:
        for stream, count in cam.decoded.items():
            decoded.add_metric([cam.name, stream], count)
        if "detect" in cam.decoded:
            unconverted.add_metric([cam.name], cam.unconverted)
        if cam.record_packets is not None:
            packets.add_metric([cam.name], cam.record_packets)
            reconnects.add_metric([cam.name], cam.record_reconnects)
    yield decoded
    yield unconverted
    yield packets
    yield reconnects


def delivery_figures(sinks: Sequence[object]) -> dict[str, float]:
    """Delivery figures summed over the sinks that report them."""
    total: dict[str, float] = {}
    for sink in sinks:
        if isinstance(sink, ReportsDelivery):
            figures = dict(sink.delivery_metrics())
        elif isinstance(depth := getattr(getattr(sink, "outbox", None), "depth", None), int):
            # A sink with a durable outbox but no delivery_metrics(): its depth is what's pending.
            figures = {"outbox_depth": depth, "events_pending": depth}
        else:
            continue
        for key, value in figures.items():
            total[key] = total.get(key, 0.0) + float(value)
    return total


def latency_histogram(registry: CollectorRegistry) -> Histogram:
    """The inference latency histogram, registered on ``registry``."""
    return Histogram(
        "edgecam_inference_seconds",
        "Time of one model inference",
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )


_CLASSIFY = {
    "classified": ("counter", "classify_crops", "Track crops the classifiers classified"),
    "dropped": ("counter", "classify_dropped", "Crops dropped because the classify queue was full"),
    "too_small": ("counter", "classify_too_small", "Sightings skipped: box under min_box"),
    "queued": ("gauge", "classify_queued", "Crops waiting for the classify worker"),
    "invoke_ms": ("gauge", "classify_invoke_ms", "Moving average of one classifier invoke (ms)"),
}


class ClassifyCollector(Collector):
    """The classification stage's counters (``edgecam_classify_*``), read at scrape time."""

    def __init__(self, read: Callable[[], Mapping[str, object] | None]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        """The metric families of the stage's current counters (none without classifiers)."""
        figures = self._read()
        if figures is None:
            return
        for key, (kind, name, doc) in _CLASSIFY.items():
            value = figures.get(key)
            if isinstance(value, int | float):
                cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                yield cls(f"edgecam_{name}", doc, float(value))
