"""The service's composition root: every part built from one config, and replaced as one.

:class:`Service` owns the detector, the sinks, the pipeline, the supervisor and the HTTP endpoint.
Start-up: detector, sinks (the broker client), cameras, endpoint; only then ``READY=1``. The
pipeline runs on the calling (main) thread; the supervisor thread pings the watchdog while frames
flow and updates ``STATUS=``; a reload runs on a thread of its own. SIGTERM stops capture, lets the
sinks flush for ``health.stop_timeout`` seconds (the MQTT outbox keeps whatever is left) and
:meth:`Service.run` returns.

A reload (:meth:`Service.apply`) builds every new part away from the pipeline thread, hands them to
the pipeline thread, which swaps them in one step between two frames, and only then closes the old
ones. If building any part fails, nothing changes: the old parts stay and one line says why.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry

from edgecam.classify.stage import load_stage
from edgecam.clips.recorder import clip_rules
from edgecam.config.models import Config
from edgecam.errors import ConfigError
from edgecam.notify.metrics import NotifyCollector
from edgecam.pipeline.cameras import CameraState
from edgecam.pipeline.guard import DetectorLike, GuardedDetector
from edgecam.pipeline.loop import Pipeline
from edgecam.pipeline.parts import NewParts, OldParts, PipelineStats
from edgecam.publish.base import EventSink, SendsCommands, Startable
from edgecam.rules.engine import RuleEngine
from edgecam.service.build import Builders, close_sinks
from edgecam.service.logs import set_level
from edgecam.service.metrics import ClassifyCollector, ServiceCollector, latency_histogram
from edgecam.service.notify import Notifier
from edgecam.service.recording import EventsCollector, build_events
from edgecam.service.reload import (
    ConfigChanges,
    compare,
    failure,
    restart_reason,
    swap_captures,
)
from edgecam.service.supervisor import ServiceState, Supervisor
from edgecam.web.recent import RecentEvents

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_WARNING = 30.0
"""Seconds a reload waits for the pipeline thread before saying that it is busy."""


@dataclass(slots=True)
class _Built:
    """The parts a new config needs, built but not yet in use."""

    config: Config
    changes: ConfigChanges
    engine: RuleEngine
    cameras: list[CameraState]
    sinks: list[EventSink] | None = None
    detector: DetectorLike | None = None
    """A new detector built ahead (CPU); None if the model is kept or built during the swap."""
    build_detector: Callable[[], DetectorLike] | None = None
    """How to build the new detector; set whenever the model changes."""

    def discard(self) -> None:
        """Release what was built for a reload that did not happen."""
        if self.detector is not None:
            self.detector.close()
        if self.sinks:
            close_sinks(self.sinks, 5.0)


class Service:
    """edgecam running from one config: build, :meth:`run`, :meth:`apply` new configs."""

    def __init__(
        self,
        config: Config,
        builders: Builders,
        *,
        config_path: Path | None = None,
        max_frames: int | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self._classify = config.classify
        """The classifiers running (a ``classify:`` change waits for a restart)."""
        self.builders = builders
        self.notifier = notifier or Notifier.from_environ()
        self.registry = CollectorRegistry()
        self.reloads = 0
        """Reloads applied so far."""
        histogram = latency_histogram(self.registry)
        # Classifiers first: if one cannot load, nothing else needs closing.
        classify = load_stage(config.classify, config.model.threads)
        self.detector = GuardedDetector(
            lambda: builders.detector(config),
            config.health.invoke_timeout,
            observe=lambda ms: histogram.observe(ms / 1000.0),
        )
        self.recent = RecentEvents()
        """The web page's recent events: a sink kept across reloads."""
        try:
            sinks = [*builders.sinks(config), self.recent]
        except BaseException:
            self.detector.close()
            raise
        engine = RuleEngine.from_config(config)
        # The events store and the clips outlive reloads; finished clips go to today's sinks.
        self.events = build_events(config, lambda: self.pipeline.sinks)
        keep: list[EventSink] = [self.events.store] if self.events.store is not None else []
        self.pipeline = Pipeline(
            config, self.detector, engine, sinks, max_frames=max_frames,
            clips=self.events.recorder, keep=keep, classify=classify,
        )  # fmt: skip
        self.state = ServiceState(
            self.pipeline, self.detector, config.health.stale_after, events=self.events
        )
        self.registry.register(ServiceCollector(self.state.figures))
        self.registry.register(
            ClassifyCollector(lambda: classify.stats() if classify is not None else None)
        )
        self.registry.register(EventsCollector(self.events))
        self.registry.register(NotifyCollector(lambda: self.pipeline.sinks))  # notify: per target
        reload = self.reload if config_path is not None else None
        self.supervisor = Supervisor(self.state, self.notifier, reload)
        self.endpoint = builders.endpoint(self)
        self._reload_lock = threading.Lock()

    # --- running ---

    def run(self) -> PipelineStats:
        """Run until the sources end, ``max_frames``, or SIGTERM/SIGINT; reload on SIGHUP."""
        # Before the cameras open: a SIGTERM during start-up still flushes the sinks.
        self._install_signals()
        state = self.state
        try:
            self._start_sinks(self.pipeline.sinks)
            self.pipeline.start()
            if self.endpoint is not None:
                self.endpoint.start()
            state.started = True
            if not state.stopping:
                self.notifier.ready(self.supervisor.status_line(time.monotonic()))
            self.supervisor.start()
            return self.pipeline.run()
        finally:
            self._shut_down()

    def stop(self) -> None:
        """Ask the service to stop (any thread, or a signal handler)."""
        self.state.stopping = True
        self.notifier.stopping()
        self.pipeline.stop.set()

    def _shut_down(self) -> None:
        self.state.stopping = True
        self.notifier.stopping()
        self.pipeline.close()
        self.supervisor.close()
        with self._reload_lock:  # a reload in progress finishes (or gives up) first
            if self.endpoint is not None:
                self.endpoint.close()
            close_sinks(
                [*self.pipeline.sinks, *self.pipeline.keep], self.config.health.stop_timeout
            )
            self.detector.close()
        self.notifier.close()

    def _install_signals(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads; the handlers only set flags (main thread busy)."""

        def stop(signum: int, _frame: object) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            self.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, lambda _s, _f: self.supervisor.request_reload())

    def _start_sinks(self, sinks: list[EventSink]) -> None:
        for sink in sinks:
            if isinstance(sink, SendsCommands):
                sink.on_detect_command = self._detect_command
            if isinstance(sink, Startable):
                sink.start()

    def _detect_command(self, camera: str, enabled: bool) -> None:
        # From the MQTT thread: the camera list belongs to the pipeline thread.
        self.pipeline.call_soon(lambda pipeline: pipeline.set_detect(camera, enabled))

    # --- reloading ---

    def reload(self) -> bool:
        """Re-read the config file and apply it; True if it was valid and applied."""
        from edgecam.config.loader import load_config

        assert self.config_path is not None
        log.info("reloading %s", self.config_path)
        try:
            new = load_config(self.config_path, check_machine=True)
        except ConfigError as err:
            problems = "; ".join(err.problems)
            log.error("reload failed: %s; keeping the running config", problems)
            return False
        return self.apply(new)

    def apply(self, new: Config) -> bool:
        """Build the parts ``new`` needs, swap them in at once, close the old; False on failure.

        On any failure every running part stays as it was, and one line says why.
        """
        with self._reload_lock:
            if self.state.stopping:
                log.warning("reload ignored: the service is stopping")
                return False
            changes = compare(self.config, new)
            changes, for_clips = self._clip_restarts(new, changes)
            try:
                built = self._build(new, changes)
            except Exception as err:
                log.error("reload failed: %s; keeping the running config", failure(err))
                return False
            try:
                old = self._on_pipeline_thread(lambda pipeline: self._swap(pipeline, built))
            except Exception as err:
                built.discard()
                log.error("reload failed: %s; keeping the running config", failure(err))
                return False
            if old is None:
                built.discard()
                log.warning("reload not applied: the service stopped first")
                return False
            self._finish(built, old)
            self.config = new
            self.reloads += 1
        for name in for_clips:
            log.info("reload: camera %s restarted: a rule now records its clips", name)
        for key in changes.need_restart:
            log.warning(
                "reload: %s changed and is NOT applied (%s); restart edgecam to apply it",
                key, restart_reason(key),
            )  # fmt: skip
        applied = ", ".join(changes.applied) or "nothing"
        if changes.need_restart:
            applied += f"; waiting for a restart: {', '.join(changes.need_restart)}"
        elif not changes.applied:
            applied += " (no changes)"
        log.info("reload done: applied %s", applied)
        return True

    def _clip_restarts(
        self, new: Config, changes: ConfigChanges
    ) -> tuple[ConfigChanges, list[str]]:
        """Also restart the cameras a rule now wants clips of (their clip ring is set up as the
        capture starts: the record stream, the Pi camera's encoder); and their names."""
        recorder = self.events.recorder
        if recorder is None:
            return changes, []
        names = recorder.untapped(new.cameras, clip_rules(new.rules))
        restart = [name for name in names if name not in changes.cameras]
        cameras = tuple(sorted({*changes.cameras, *restart}))
        return replace(changes, cameras=cameras), restart

    def _build(self, new: Config, changes: ConfigChanges) -> _Built:
        """Every new part ``new`` needs (reload thread); on an error, what was built is closed."""
        engine = RuleEngine.from_config(new)
        cameras = [
            self.pipeline.new_camera(name, new.cameras[name], new.rules)
            for name in changes.cameras
            if name in new.cameras
        ]
        built = _Built(new, changes, engine, cameras)
        try:
            if "detector" in changes.rebuild:
                built.build_detector = lambda: self.builders.detector(new)
                # An Edge TPU is held by the running detector: the new one is built in the swap.
                if not self.detector.exclusive:
                    built.detector = built.build_detector()
            if "sinks" in changes.rebuild:
                # The running classifiers say which rules get a sub label sensor, not new ones.
                running = new.model_copy(update={"classify": self._classify})
                built.sinks = [*self.builders.sinks(running), self.recent]
        except BaseException:
            built.discard()
            raise
        return built

    def _swap(self, pipeline: Pipeline, built: _Built) -> OldParts:
        """The one step on the pipeline thread: detector, engine, sinks and cameras change."""
        if built.build_detector is not None:
            if built.detector is not None:
                self.detector.switch(built.detector, built.build_detector)
            else:
                self.detector.switch_build(built.build_detector)  # raises: nothing changed
            built.detector = None  # in use now: not the reload's to close any more
            pipeline.refit()
        self.detector.time_limit = built.config.health.invoke_timeout
        return pipeline.swap(
            NewParts(built.config, built.engine, built.sinks, built.cameras, built.changes.cameras)
        )

    def _finish(self, built: _Built, old: OldParts) -> None:
        """After the swap (reload thread): close the old parts, start the new ones."""
        if built.sinks is not None:
            # The old sinks first: an MQTT client id must not be connected twice.
            gone = [sink for sink in old.sinks if sink not in built.sinks]  # not the kept ones
            close_sinks(gone, self.config.health.stop_timeout)
            self._start_sinks(built.sinks)
        set_level(built.config.log.level)
        self.supervisor.set_stale_after(built.config.health.stale_after)
        swap_captures(old.cameras, built.cameras)

    def _on_pipeline_thread(self, call: Callable[[Pipeline], T]) -> T | None:
        """``call(pipeline)`` on the pipeline thread; its result, or None if the pipeline stopped.

        An error raised by ``call`` is raised here.
        """
        handover = _Handover(call)
        self.pipeline.call_soon(handover.run)
        warned = False
        started = time.monotonic()
        while not handover.done.wait(0.1):
            if self.pipeline.stop.is_set() and handover.cancel():
                return None
            if not warned and time.monotonic() - started > BUSY_WARNING:
                warned = True
                log.warning("reload: the pipeline is busy; the new config applies when it resumes")
        return handover.result()


class _Handover(Generic[T]):
    """A call for the pipeline thread that the caller can cancel until it has begun."""

    def __init__(self, call: Callable[[Pipeline], T]) -> None:
        self._call = call
        self._lock = threading.Lock()
        self._state = "waiting"
        self._value: T | None = None
        self._error: BaseException | None = None
        self.done = threading.Event()

    def run(self, pipeline: Pipeline) -> None:
        """Run the call unless it was cancelled (pipeline thread)."""
        with self._lock:
            if self._state != "waiting":
                return
            self._state = "running"
        try:
            self._value = self._call(pipeline)
        except BaseException as err:  # handed to the waiting thread
            self._error = err
        finally:
            self.done.set()

    def cancel(self) -> bool:
        """True if the call will never run; False if it already began (wait for it)."""
        with self._lock:
            if self._state == "waiting":
                self._state = "cancelled"
                return True
            return False

    def result(self) -> T | None:
        """The call's value, or its error raised."""
        if self._error is not None:
            raise self._error
        return self._value
