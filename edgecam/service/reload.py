"""What a reload changes: the differences between two configs, and the cameras' hand-over.

Everything but the HTTP endpoint applies without a restart (:meth:`Service.apply
<edgecam.service.app.Service.apply>` does it). A camera that is added or removed, or whose capture
settings (source, motion gate, stall and backoff times) change, is started, stopped or restarted
on its own while the other cameras run on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from edgecam.config.models import Config
from edgecam.errors import CameraError, EdgecamError
from edgecam.pipeline.cameras import CameraState, capture_settings

log = logging.getLogger(__name__)

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
        if key in ("http", "classify"):  # classifiers are loaded once, at start
            restart.append(key)
        else:
            applied.append(key)
    return ConfigChanges(tuple(applied), tuple(restart), _changed_cameras(old, new))


def _changed_cameras(old: Config, new: Config) -> tuple[str, ...]:
    names = set(old.cameras) ^ set(new.cameras)
    for name in set(old.cameras) & set(new.cameras):
        if capture_settings(old.cameras[name]) != capture_settings(new.cameras[name]):
            names.add(name)
    return tuple(sorted(names))


def swap_captures(stopped: Sequence[CameraState], fresh: Sequence[CameraState]) -> None:
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


def failure(err: BaseException) -> str:
    """One line for an error that stopped a reload (edgecam's own errors say what to do)."""
    if isinstance(err, EdgecamError):
        return str(err).replace("\n", "; ")
    log.debug("reload failed", exc_info=err)
    return f"{type(err).__name__}: {err} (run with --debug for a traceback)"
