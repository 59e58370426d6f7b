"""Reload on SIGHUP: re-read and validate the config, apply what can change while running.

Everything but the HTTP endpoint applies without a restart. Rules, zones, lines, fps limits, the
sinks (MQTT settings), the model and the log level are applied in place. A camera that is added
or removed, or whose capture settings (source, motion gate, stall and backoff times) change, is
started, stopped or restarted on its own while the other cameras run on. New HTTP settings need
a restart, which is logged. A bad config keeps the running one and logs every error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgecam.config.models import Config
from edgecam.errors import CameraError, ConfigError, EdgecamError
from edgecam.publish.base import EventSink, Retargetable
from edgecam.rules.engine import RuleEngine
from edgecam.service.cameras import CameraState, capture_settings
from edgecam.service.logs import set_level
from edgecam.service.pipeline import Pipeline

log = logging.getLogger(__name__)

APPLY_TIMEOUT = 30.0
"""How long the reload waits for the pipeline thread to take the new parts."""
CAPTURE_STOP_TIMEOUT = 10.0
"""How long a detached camera's capture thread may take to end (a stream read in progress)."""


@dataclass(frozen=True, slots=True)
class ConfigChanges:
    """What differs between the running config and a new one."""

    applied: tuple[str, ...]
    """Sections applied in place (``rules``, ``mqtt``, ``model``, ...)."""
    need_restart: tuple[str, ...]
    """Key paths that only take effect after a restart."""
    cameras: tuple[str, ...] = ()
    """Cameras to stop, start or restart: removed, added, or with new capture settings."""


def compare(old: Config, new: Config) -> ConfigChanges:
    """Sort the differences between two configs into applied-now and needs-restart."""
    applied: list[str] = []
    restart: list[str] = []
    old_fields, new_fields = old.model_dump(), new.model_dump()
    for key in Config.model_fields:
        if old_fields.get(key) == new_fields.get(key):
            continue
        if key == "http":
            restart.append("http")
        else:
            applied.append(key)
    return ConfigChanges(tuple(applied), tuple(restart), _changed_cameras(old, new))


def _changed_cameras(old: Config, new: Config) -> tuple[str, ...]:
    names = set(old.cameras) ^ set(new.cameras)
    for name in set(old.cameras) & set(new.cameras):
        if capture_settings(old.cameras[name]) != capture_settings(new.cameras[name]):
            names.add(name)
    return tuple(sorted(names))


class Reloader:
    """Applies a new config to a running pipeline; called from the supervisor thread."""

    def __init__(
        self,
        path: Path,
        pipeline: Pipeline,
        build_sinks: Callable[[Config], list[EventSink]],
        rebuild_detector: Callable[[Config], None],
        close_sinks: Callable[[Sequence[EventSink]], None],
    ) -> None:
        self.path = path
        self.pipeline = pipeline
        self._build_sinks = build_sinks
        self._rebuild_detector = rebuild_detector
        self._close_sinks = close_sinks
        self.config = pipeline.config
        self.reloads = 0

    def reload(self) -> bool:
        """Re-read the config file; True if it was valid and applied."""
        from edgecam.config.loader import load_config

        log.info("reloading %s", self.path)
        try:
            new = load_config(self.path)
        except ConfigError as err:
            for problem in err.problems:
                log.error("reload: %s", problem)
            log.error("reload failed: keeping the running config (fix the errors above)")
            return False
        changes = compare(self.config, new)
        try:
            self._apply(new, changes)
        except EdgecamError as err:
            log.error("reload failed: %s; keeping the running config", err)
            return False
        for key in changes.need_restart:
            log.warning("reload: %s changed; restart edgecam to apply it", key)
        self.config = new
        self.reloads += 1
        log.info("reload done: applied %s", ", ".join(changes.applied) or "nothing (no changes)")
        return True

    def _apply(self, new: Config, changes: ConfigChanges) -> None:
        engine = RuleEngine.from_config(new)
        fresh = [
            self.pipeline.new_camera(name, new.cameras[name])
            for name in changes.cameras
            if name in new.cameras
        ]
        stopped: list[CameraState] = []
        done = threading.Event()

        def apply(pipeline: Pipeline) -> None:
            if "model" in changes.applied:
                self._rebuild_detector(new)
            pipeline.replace_engine(engine)  # ends the open states of every old camera first
            stopped.extend(pipeline.detach(changes.cameras))
            pipeline.attach(fresh)
            if _touches_sinks(changes):
                self._replace_sinks(pipeline, new)
            elif "rules" in changes.applied or "cameras" in changes.applied:
                _retarget(pipeline.sinks, new)
            for cam in pipeline.cameras:
                if (cam_config := new.cameras.get(cam.name)) is not None:
                    cam.min_interval = 1.0 / cam_config.fps if cam_config.fps else 0.0
            pipeline.config = new
            done.set()

        self.pipeline.call_soon(apply)
        if not done.wait(APPLY_TIMEOUT):
            log.warning("reload: the pipeline is busy; the new config applies when it resumes")
        set_level(new.log.level)
        _swap_captures(stopped, fresh)

    def _replace_sinks(self, pipeline: Pipeline, new: Config) -> None:
        """Close the old sinks first: an MQTT client id and outbox must not be used twice."""
        old, pipeline.sinks = pipeline.sinks, []
        self._close_sinks(old)
        try:
            pipeline.sinks = self._build_sinks(new)
        except EdgecamError as err:
            log.error("reload: cannot set up the new sinks (%s); back to the previous ones", err)
            pipeline.sinks = self._build_sinks(self.config)


def _swap_captures(stopped: Sequence[CameraState], fresh: Sequence[CameraState]) -> None:
    """End the captures of detached cameras, then start the new ones (on the reload thread).

    The old ones end first, so a camera whose settings changed can open the same device again.
    A new camera that cannot open reports why in its stats, like one that fails at start-up.
    """
    for cam in stopped:
        cam.capture.join(timeout=CAPTURE_STOP_TIMEOUT)
        if cam.capture.is_alive():
            log.warning("reload: camera %s is still ending; starting the new one anyway", cam.name)
        else:
            log.info("reload: camera %s stopped", cam.name)
    for cam in fresh:
        try:
            cam.capture.start()
        except CameraError as err:
            log.error("reload: camera %s cannot start: %s", cam.name, err)
        else:
            log.info("reload: camera %s started", cam.name)


def _retarget(sinks: Sequence[EventSink], new: Config) -> None:
    """Tell the sinks that follow rules and cameras (MQTT, for its retained topics) of a change."""
    for sink in sinks:
        if isinstance(sink, Retargetable):
            sink.retarget(list(new.cameras), new.rules)


def _touches_sinks(changes: ConfigChanges) -> bool:
    # Sections that build_sinks reads: a change there means new sinks.
    return any(key in changes.applied for key in ("mqtt", "device", "snapshots"))
