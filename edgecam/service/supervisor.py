"""The supervisor thread: watchdog pings tied to the pipeline heartbeat, STATUS=, reloads.

A reload runs on a thread of its own, so the watchdog pings go on while it builds a detector or
waits for old sinks to flush.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from edgecam.pipeline.cameras import CameraState
from edgecam.pipeline.guard import GuardedDetector
from edgecam.pipeline.loop import Pipeline
from edgecam.service.metrics import (
    CameraFigures,
    ServiceFigures,
    broker_states,
    degraded_reasons,
    delivery_figures,
)
from edgecam.service.notify import Notifier, WatchdogPolicy
from edgecam.service.recording import EventsParts

log = logging.getLogger(__name__)

STATUS_INTERVAL = 5.0
TICK = 0.25


class ServiceState:
    """The running service as the HTTP endpoint, the metrics and the watchdog see it."""

    def __init__(
        self,
        pipeline: Pipeline,
        detector: GuardedDetector,
        stale_after: float,
        clock: Callable[[], float] = time.monotonic,
        events: EventsParts | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.events = events or EventsParts(None, None)
        """The events store and clip recorder, for the API and ``/metrics``."""
        self.detector = detector
        self.stale_after = stale_after
        self.clock = clock
        self.started = False
        self.stopping = False

    def health(self) -> tuple[bool, str]:
        """``(healthy, reason)``: frames flow and the detector works.

        Healthy but at risk (events cannot be stored) gives ``(True, "degraded: <why>")``.
        """
        if self.stopping:
            return False, "stopping"
        if not self.started:
            return False, "starting"
        for cam in self.pipeline.cameras:
            if (detail := cam.capture.starting_detail()) is not None:
                return False, f"starting: camera {cam.name}: {detail}"
        if not self.detector.healthy:
            return False, f"detector unhealthy: {self.detector.last_error}"
        age = self.clock() - self.pipeline.heartbeat
        if age > self.stale_after:
            errors = [str(c.capture.error) for c in self.pipeline.cameras if c.capture.error]
            detail = f" ({'; '.join(errors)})" if errors else ""
            return False, f"no frame analysed for {age:.0f}s{detail}"
        reasons = degraded_reasons(self.pipeline.sinks) + self._camera_reasons()
        if self.events.store is not None:
            reasons += self.events.store.degraded_reasons()
        if reasons:
            return True, "degraded: " + "; ".join(reasons)
        return True, "ok"

    def _camera_reasons(self) -> list[str]:
        """Cameras that detect but cannot record (their record stream is down)."""
        reasons = []
        now = self.clock()
        for cam in self.pipeline.cameras:
            health = cam.capture.health(now)
            record = health.get("record")
            if health["status"] == "degraded" and isinstance(record, dict):
                reasons.append(f"camera {cam.name}: record stream down ({record['error']})")
        return reasons

    def camera_status(self) -> dict[str, str]:
        """Each camera's capture status: one camera down does not make the service unhealthy."""
        now = self.clock()
        return {cam.name: str(cam.capture.health(now)["status"]) for cam in self.pipeline.cameras}

    def figures(self) -> ServiceFigures:
        """Counters for the Prometheus collector."""
        now = self.clock()
        cameras = [_camera_figures(cam, cam.capture.health(now)) for cam in self.pipeline.cameras]
        info = self.detector.info
        return ServiceFigures(
            cameras,
            self.pipeline.stats.events,
            info.device,
            info.runtime,
            self.detector.rebuilds,
            self.detector.healthy,
            delivery_figures(self.pipeline.sinks),
            broker_states(self.pipeline.sinks),
        )


def _camera_figures(cam: CameraState, health: dict[str, object]) -> CameraFigures:
    """One camera's counters, with its decoders' and record stream's where it has them."""
    decoded: dict[str, int] = {}
    if isinstance(count := health.get("decoded"), int):
        decoded["detect"] = count
    record = health.get("record")
    packets = reconnects = None
    if isinstance(record, dict):
        decoded["record"] = int(record["decoded"])
        packets, reconnects = int(record["packets"]), int(record["reconnects"])
    return CameraFigures(
        cam.name, cam.capture.frames, cam.slot.dropped, cam.analysed, cam.capture.reconnects,
        cam.invokes, cam.sensor.frames if cam.sensor is not None else 0,
        decoded, packets, reconnects or 0, cam.capture.unconverted,
    )  # fmt: skip


class Supervisor:
    """Pings the watchdog while the heartbeat is fresh, reports STATUS=, runs reloads."""

    def __init__(
        self, state: ServiceState, notifier: Notifier, reload: Callable[[], bool] | None
    ) -> None:
        self.state = state
        self.notifier = notifier
        self._reload_config = reload
        self.policy = (
            WatchdogPolicy(notifier.watchdog, state.stale_after) if notifier.watchdog else None
        )
        self._reload = threading.Event()
        self._reloading: threading.Thread | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._status_mark = (time.monotonic(), 0)
        self.pings = 0

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def request_reload(self) -> None:
        """Ask for a reload (safe from a signal handler)."""
        self._reload.set()

    def set_stale_after(self, seconds: float) -> None:
        """A reload changed ``health.stale_after``: health and watchdog pings follow it."""
        self.state.stale_after = seconds
        if self.notifier.watchdog:
            self.policy = WatchdogPolicy(self.notifier.watchdog, seconds)

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def status_line(self, now: float) -> str:
        """``STATUS=`` text: fps since the last status, the detector, the events so far."""
        since, analysed_then = self._status_mark
        stats = self.state.pipeline.stats
        fps = (stats.analysed - analysed_then) / (now - since) if now > since else 0.0
        self._status_mark = (now, stats.analysed)
        info = self.state.detector.info
        return (
            f"{fps:.1f} fps on {info.device} ({info.runtime}), "
            f"{stats.inference_ms:.0f} ms/inference, {stats.events} events"
        )

    def _run(self) -> None:
        last_ping = float("-inf")
        next_status = time.monotonic() + STATUS_INTERVAL
        interval = min(TICK, self.policy.interval / 2) if self.policy else TICK
        while not self._stop.wait(interval):
            now = time.monotonic()
            if self.policy is not None and self.policy.should_ping(
                now, self.state.pipeline.heartbeat, last_ping
            ):
                self.notifier.ping()
                self.pings += 1
                last_ping = now
            reloading = self._reloading is not None and self._reloading.is_alive()
            if self._reload.is_set() and not reloading and not self.state.stopping:
                self._reload.clear()  # a SIGHUP during a reload runs another one after it
                self._reloading = threading.Thread(
                    target=self._do_reload, name="reload", daemon=True
                )
                self._reloading.start()
            if (store := self.state.events.store) is not None:
                store.recover()  # a degraded store heals even when no event comes
            if now >= next_status:
                self.notifier.status(self.status_line(now))
                next_status = now + STATUS_INTERVAL

    def _do_reload(self) -> None:
        if self._reload_config is None:
            log.warning("SIGHUP ignored: running without --config, nothing to re-read")
            return
        self.notifier.reloading()
        try:
            self._reload_config()
        except Exception:
            log.exception("reload failed unexpectedly; keeping the running config")
        self.notifier.ready(self.status_line(time.monotonic()))
