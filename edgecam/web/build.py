"""Build the web server for a running service: its view, recent events and config editor."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from edgecam.config.models import Config
from edgecam.errors import ConfigError
from edgecam.events.store import EventStore
from edgecam.pipeline.loop import Pipeline
from edgecam.web.editor import ConfigEditor
from edgecam.web.live import PipelineView
from edgecam.web.recent import RecentEvents
from edgecam.web.server import WebServer

log = logging.getLogger(__name__)


def build_web(
    config: Config,
    pipeline: Pipeline,
    *,
    health: Callable[[], tuple[bool, str]],
    camera_status: Callable[[], dict[str, str]],
    registry: CollectorRegistry,
    recent: RecentEvents,
    config_path: Path | None,
    reload: Callable[[], bool],
    events: EventStore | None = None,
) -> WebServer | None:
    """The server for ``config.http``, or None when it is off or cannot listen (logged).

    ``reload()`` re-reads the config file and applies it (True if applied); the editor calls it
    after writing. Without a config file (the demo) the server prints its URL once started.
    """
    if not config.http.enabled:
        return None
    view = PipelineView(pipeline, health, camera_status)
    editor = ConfigEditor(config_path, config.http.allow_config_write, reload)
    try:
        extra = {"recent": recent, "editor": editor, "events": events}
        server = WebServer(config.http, view, registry, extra=extra)
    except ConfigError as err:
        # Detection matters more than its dashboard: run on, and say why /healthz is missing.
        log.error("%s; running without the HTTP endpoint", err)
        return None
    if config_path is None:  # the demo: show a new user where to look
        server.banner = "edgecam demo: open {url} to watch it (Ctrl-C stops)"
    return server
