"""The web server: uvicorn on its own thread and event loop, beside the pipeline.

Serves every connection concurrently (asyncio), with a listen backlog of 128, no ``Server:``
banner, a deadline for each request's headers (a client trickling a header line every few
seconds is cut off; the others are served meanwhile), and one debug line for a client that hung
up before its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Sequence
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry
from starlette.routing import BaseRoute
from uvicorn.protocols.http.h11_impl import H11Protocol

from edgecam.config.http import HttpConfig
from edgecam.errors import ConfigError
from edgecam.web.api import api_routes
from edgecam.web.app import WebContext, core_routes, create_app
from edgecam.web.frames import LiveFrames
from edgecam.web.pages import page_routes
from edgecam.web.security import Policy
from edgecam.web.view import ServiceView

log = logging.getLogger(__name__)

BACKLOG = 128
KEEP_ALIVE = 5.0
"""Seconds an idle keep-alive connection is kept open."""
SHUTDOWN_GRACE = 2.0
"""Seconds open answers (MJPEG streams) get to finish when the server closes."""


class _DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None
    _armed_for: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept, and start the clock for the first request's headers."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Parse; a request whose headers are complete stops the clock."""
        super().data_received(data)
        if self.cycle is not self._armed_for:
            self._disarm()

    def on_response_complete(self) -> None:
        """The next request on this connection gets its own deadline."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """One debug line when the client left before its answer was complete."""
        if self.cycle is not None and not self.cycle.response_complete:
            log.debug("HTTP client %s hung up before the answer", _peer(self.client))
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is self._armed_for and not self.transport.is_closing():
            log.debug("HTTP client %s too slow sending its request; closed", _peer(self.client))
            self.transport.close()


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "?"


def _bind(address: tuple[str, int]) -> socket.socket:
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as err:
        raise ConfigError(
            f"http.listen {host}:{port}: cannot listen: {os.strerror(err.errno or 0)}; "
            "choose another port or set http.enabled: false"
        ) from err
    sock.setblocking(False)
    return sock


WORKERS = 4
"""Worker threads for requests' blocking work: enough for a Pi's cores, a fixed number."""


class WebServer:
    """Serves the app on a background thread from :meth:`start` until :meth:`close`.

    ``extra`` holds optional parts the routes use: ``recent`` (a RecentEvents sink) and
    ``editor`` (a ConfigEditor); ``routes`` are added after the built-in ones.
    """

    def __init__(
        self,
        config: HttpConfig,
        view: ServiceView,
        registry: CollectorRegistry,
        routes: Sequence[BaseRoute] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not logging.getLogger("uvicorn").level:
            # uvicorn says "started" and warns once per malformed request: a bad client could
            # flood the journal with those. edgecam logs what matters itself.
            logging.getLogger("uvicorn").setLevel(logging.ERROR)
        self.policy = Policy.from_config(config)
        self.frames = LiveFrames(view, config.stream_fps)
        self.context = WebContext(view, registry, self.frames, self.policy, dict(extra or {}))
        app = create_app(self.context, [*core_routes(), *api_routes(), *page_routes(), *routes])
        protocol = type(
            "Protocol", (_DeadlineProtocol,), {"header_timeout": config.request_timeout}
        )
        self._sock = _bind(config.address)
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(
                app,
                http=protocol,
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
                backlog=BACKLOG,
                timeout_keep_alive=int(KEEP_ALIVE),
                timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
            )
        )
        self.banner: str | None = None
        """Printed to stderr once serving, ``{url}`` filled in (the demo says where to look)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0 in tests)."""
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL of the pages, e.g. ``http://127.0.0.1:8080/``."""
        host = self._sock.getsockname()[0]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Start serving."""
        self._thread.start()
        log.info("HTTP endpoint on %s (pages, /healthz, /metrics, /api)", self.url)
        if self.banner:
            print(self.banner.format(url=self.url), file=sys.stderr, flush=True)

    def _serve(self) -> None:
        async def serve() -> None:
            import anyio.to_thread

            # Blocking work of requests (metrics, JPEG encoding, the editor, the events store)
            # runs on a small fixed pool, not anyio's 40 threads that stay once started.
            anyio.to_thread.current_default_thread_limiter().total_tokens = WORKERS
            self._loop = asyncio.get_running_loop()
            self.context.closing = asyncio.Event()
            await self._uvicorn.serve(sockets=[self._sock])

        try:
            asyncio.run(serve())
        except Exception:
            log.exception("the HTTP endpoint stopped")

    def close(self) -> None:
        """Stop serving (open streams end) and release the port."""
        loop, closing = self._loop, self.context.closing
        if loop is not None and closing is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(closing.set)
        self._uvicorn.should_exit = True
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_GRACE + 3.0)
        self._sock.close()
