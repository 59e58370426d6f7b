"""``edgecam run`` as a service: start-up order, signals, sd_notify, HTTP, reload and shutdown.

Start-up: detector, sinks (the broker client), cameras, HTTP; only then ``READY=1``. The pipeline
runs on the main thread; a supervisor thread pings the watchdog while frames flow, updates
``STATUS=`` and performs reloads. SIGTERM stops capture, lets the sinks flush for
``health.stop_timeout`` seconds (the MQTT outbox keeps whatever is left) and exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry

from edgecam.config.models import Config
from edgecam.publish.base import EventSink
from edgecam.rules.engine import RuleEngine
from edgecam.service.guard import DetectorLike, GuardedDetector
from edgecam.service.metrics import ServiceCollector, latency_histogram
from edgecam.service.notify import Notifier
from edgecam.service.pipeline import Pipeline, PipelineStats
from edgecam.service.reload import Reloader
from edgecam.service.supervisor import ServiceState, Supervisor
from edgecam.web.build import build_web, waiting_reload
from edgecam.web.recent import RecentEvents

log = logging.getLogger(__name__)


def run_service(
    config: Config,
    *,
    config_path: Path | None,
    build_sinks: Callable[[Config], list[EventSink]],
    build_detector: Callable[[Config], DetectorLike],
    max_frames: int | None = None,
    notifier: Notifier | None = None,
    bind_sinks: Callable[[Sequence[EventSink], Pipeline], None] | None = None,
) -> PipelineStats:
    """Run until the sources end, ``max_frames``, or SIGTERM/SIGINT; reload on SIGHUP.

    ``bind_sinks(sinks, pipeline)`` connects new sinks to the pipeline (MQTT ``detect/set``
    commands), at start-up and after a reload rebuilt them.
    """
    notifier = notifier or Notifier.from_environ()
    registry = CollectorRegistry()
    histogram = latency_histogram(registry)
    current = {"config": config}
    detector = GuardedDetector(
        lambda: build_detector(current["config"]),
        config.health.invoke_timeout,
        observe=lambda ms: histogram.observe(ms / 1000.0),
    )
    recent = RecentEvents()  # the web page's recent events; kept across reloads
    sinks = [*build_sinks(config), recent]
    stop = threading.Event()
    pipeline = Pipeline(
        config, detector, RuleEngine.from_config(config), sinks, stop=stop, max_frames=max_frames
    )
    if bind_sinks is not None:
        bind_sinks(sinks, pipeline)

    def sinks_for(new: Config) -> list[EventSink]:
        built = [*build_sinks(new), recent]
        if bind_sinks is not None:
            bind_sinks(built, pipeline)
        return built

    state = ServiceState(pipeline, detector, config.health.stale_after)
    registry.register(ServiceCollector(state.figures))

    def rebuild(new: Config) -> None:
        current["config"] = new
        detector.rebuild()
        pipeline.refit()

    reloader = (
        Reloader(config_path, pipeline, sinks_for, rebuild, _closer(config.health.stop_timeout))
        if config_path is not None
        else None
    )
    supervisor = Supervisor(state, notifier, reloader)
    reloads = (lambda: reloader.reloads) if reloader is not None else (lambda: 0)
    endpoint = build_web(
        config, pipeline, health=state.health, camera_status=state.camera_status,
        registry=registry, recent=recent, config_path=config_path,
        reload=waiting_reload(supervisor.request_reload, reloads),
    )  # fmt: skip
    # Before the cameras open: a SIGTERM during start-up still flushes the sinks.
    _install_signals(state, notifier, supervisor)
    try:
        pipeline.start()
        if endpoint is not None:
            endpoint.start()
        state.started = True
        if not state.stopping:
            notifier.ready(supervisor.status_line(time.monotonic()))
        supervisor.start()
        stats = pipeline.run()
    finally:
        state.stopping = True
        notifier.stopping()
        supervisor.close()
        if endpoint is not None:
            endpoint.close()
        _closer(pipeline.config.health.stop_timeout)(pipeline.sinks)
        detector.close()
        notifier.close()
    return stats


def _install_signals(state: ServiceState, notifier: Notifier, supervisor: Supervisor) -> None:
    """SIGTERM/SIGINT stop, SIGHUP reloads; handlers only set flags (the main thread is busy)."""

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        state.stopping = True
        notifier.stopping()
        state.pipeline.stop.set()

    def hup(_signum: int, _frame: object) -> None:
        supervisor.request_reload()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, hup)


def _closer(timeout: float) -> Callable[[Sequence[EventSink]], None]:
    """A function closing sinks in parallel, waiting at most ``timeout`` seconds in all."""

    def close_all(sinks: Sequence[EventSink]) -> None:
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

    return close_all


def _close_one(sink: EventSink) -> None:
    try:
        sink.close()
    except Exception:
        log.exception("closing %s failed", type(sink).__name__)
