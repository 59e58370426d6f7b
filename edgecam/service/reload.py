"""What a reload changes: one table of what each config section takes, and the cameras' hand-over.

:data:`RELOAD_TABLE` is the only place that says what a change of a top-level section needs: to be
applied in place, parts rebuilt, or a restart (docs/architecture.md, "Reload"). :func:`compare`
reads it, and the service's reload (``Service.apply`` in :mod:`edgecam.service.app`) builds what
it names. A camera that is added or removed, or whose capture settings (source, motion gate,
stall and backoff times) change, is started, stopped or restarted on its own while the others run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from edgecam.config.models import Config
from edgecam.errors import CameraError, EdgecamError
from edgecam.pipeline.cameras import CameraState, capture_settings

log = logging.getLogger(__name__)

CAPTURE_STOP_TIMEOUT = 10.0
"""How long a detached camera's capture thread may take to end (a stream read in progress)."""


Part = Literal["detector", "sinks", "cameras"]
"""A part a reload builds anew. The rule engine is rebuilt on every reload (it is cheap)."""


@dataclass(frozen=True, slots=True)
class SectionReload:
    """What a change of one top-level section takes."""

    rebuilds: frozenset[Part] = frozenset()
    """Parts built anew and swapped in; empty: the new values are read in place."""
    restart: bool = False
    """Only a restart applies it; the running service keeps the old values and says so."""
    why: str = ""
    """Why (for a restart: said in the log)."""


def _rebuild(*parts: Part) -> SectionReload:
    return SectionReload(frozenset(parts))


RELOAD_TABLE: Mapping[str, SectionReload] = {
    "device": _rebuild("sinks"),  # MQTT topics and the client id carry the device name
    "model": _rebuild("detector"),
    "cameras": _rebuild("cameras"),  # only cameras whose capture settings changed restart
    "rules": SectionReload(),  # the new rule engine and the recorder's clip rules
    "snapshots": _rebuild("sinks"),
    "events": SectionReload(
        restart=True,
        why="the events store and the clip recorder are kept across reloads (open clips, "
        "the cameras' clip rings)",
    ),
    "clips": SectionReload(restart=True, why="the cameras' clip rings are sized at start"),
    "mqtt": _rebuild("sinks"),
    # notify: a new notifier (URL files read and parsed, nothing sent); the old one's workers
    # stop after the send in progress, the new ones take over the same queues (by target name).
    "notify": _rebuild("sinks"),
    "http": SectionReload(restart=True, why="the web server keeps its listening socket"),
    "classify": SectionReload(
        restart=True, why="the classifiers are loaded once, at start, with their worker"
    ),
    "log": SectionReload(),  # the level is set after the swap
    "health": SectionReload(),  # read where used; the supervisor is told the new stale_after
}
"""What a change of each top-level config section takes; every ``Config`` field has an entry."""


@dataclass(frozen=True, slots=True)
class ConfigChanges:
    """What differs between the running config and a new one."""

    applied: tuple[str, ...]
    """Sections applied now (``rules``, ``mqtt``, ``model``, ...)."""
    need_restart: tuple[str, ...]
    """Sections that only take effect after a restart."""
    cameras: tuple[str, ...] = ()
    """Cameras to stop, start or restart: removed, added, or with new capture settings."""
    rebuild: frozenset[Part] = frozenset()
    """Parts the applied sections need built anew."""


def compare(old: Config, new: Config) -> ConfigChanges:
    """Sort the differences between two configs by :data:`RELOAD_TABLE`."""
    applied: list[str] = []
    restart: list[str] = []
    rebuild: set[Part] = set()
    for key in Config.model_fields:
        if getattr(old, key) == getattr(new, key):
            continue
        entry = RELOAD_TABLE[key]
        if entry.restart:
            restart.append(key)
        else:
            applied.append(key)
            rebuild |= entry.rebuilds
    cameras = _changed_cameras(old, new)
    return ConfigChanges(tuple(applied), tuple(restart), cameras, frozenset(rebuild))


def restart_reason(section: str) -> str:
    """Why a change of ``section`` needs a restart (for the log)."""
    return RELOAD_TABLE[section].why


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
