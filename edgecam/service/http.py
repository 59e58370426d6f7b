"""The HTTP endpoint: ``/healthz``, ``/metrics`` and ``/cameras/<name>/latest.jpg``.

Standard-library ``http.server`` on one background thread, one request at a time: a scrape every
few seconds needs nothing more, and it adds no dependency. No authentication: it binds to
127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from edgecam.errors import ConfigError

log = logging.getLogger(__name__)

_LATEST = re.compile(r"^/cameras/([A-Za-z0-9_-]{1,64})/latest\.jpg$")


class ServiceView(Protocol):
    """What the endpoint shows of the running service."""

    def health(self) -> tuple[bool, str]:
        """``(healthy, reason)``; the reason says what is wrong, or ``ok``."""
        ...

    def latest_jpeg(self, camera: str) -> bytes | None:
        """The latest analysed frame of ``camera`` with its boxes, as JPEG; KeyError if unknown."""
        ...

    def camera_status(self) -> dict[str, str]:
        """Each camera's capture status (``running``, ``reconnecting``, ``ended``, ...)."""
        ...


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5.0  # a stalled client must not hold the single serving thread for long

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            if path == "/healthz":
                self._health()
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(self.server.registry))
            elif match := _LATEST.match(path):
                self._latest(match.group(1))
            else:
                self._json(404, {"error": "not found", "paths": ["/healthz", "/metrics"]})
        except Exception:  # a bad request must never take the service down
            log.exception("HTTP %s failed", path)
            self._json(500, {"error": "internal error"})

    def _health(self) -> None:
        view = self.server.view
        ok, reason = view.health()
        body = {"status": "ok" if ok else "unhealthy", "reason": reason}
        self._json(200 if ok else 503, {**body, "cameras": view.camera_status()})

    def _latest(self, camera: str) -> None:
        try:
            jpeg = self.server.view.latest_jpeg(camera)
        except KeyError:
            self._json(404, {"error": f"no camera {camera!r}"})
            return
        if jpeg is None:
            self._json(503, {"error": f"camera {camera!r} has no analysed frame yet"})
        else:
            self._send(200, "image/jpeg", jpeg)

    def _json(self, code: int, body: dict[str, object]) -> None:
        self._send(code, "application/json", json.dumps(body).encode())

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _Server(HTTPServer):
    # One request at a time on one thread: a scrape is cheap, and the thread count stays fixed.

    def __init__(
        self, address: tuple[str, int], view: ServiceView, registry: CollectorRegistry
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.view = view
        self.registry = registry


class HttpEndpoint:
    """Serves the endpoint on a background thread until :meth:`close`."""

    def __init__(
        self, address: tuple[str, int], view: ServiceView, registry: CollectorRegistry
    ) -> None:
        try:
            self._server = _Server(address, view, registry)
        except OSError as err:
            host, port = address
            raise ConfigError(
                f"http.listen {host}:{port}: cannot listen: {err.strerror}; "
                "choose another port or set http.enabled: false"
            ) from err
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.5}, name="http"
        )
        self._thread.daemon = True

    @property
    def port(self) -> int:
        """The bound port (useful with port 0 in tests)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start serving."""
        self._thread.start()
        log.info("HTTP endpoint on http://%s:%d/healthz", *self._server.server_address[:2])

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
