"""A service view whose answers tests set, and a web server around it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter

from edgecam.config.http import HttpConfig
from edgecam.config.loader import parse_config
from edgecam.config.models import Config
from edgecam.types import Detection
from edgecam.web.server import WebServer
from edgecam.web.view import LiveFrame, TrackBox

CONFIG = """\
device: {timezone: UTC}  # day boundaries the tests can name
cameras:
  a: {source: {type: image, paths: [/nonexistent.jpg]}}
  b: {source: {type: image, paths: [/nonexistent.jpg]}}
  c:
    source: {type: image, paths: [/nonexistent.jpg]}
    zones: {door: {polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}}
    lines: {gate: {points: [[0.5, 0.0], [0.5, 1.0]]}}
    masks: [{polygon: [[0.8, 0.8], [1.0, 0.8], [1.0, 1.0]]}]
rules:
  - {name: people, kind: presence, labels: [person]}
"""


class FakeView:
    """Camera ``a`` has no frame yet, ``c`` has one, ``boom`` fails; others are unknown."""

    def __init__(self) -> None:
        self.healthy = (True, "ok")
        self.image = np.full((120, 160, 3), 90, np.uint8)
        self.seq = 1
        self.running = parse_config(CONFIG)

    def health(self) -> tuple[bool, str]:
        """As set."""
        return self.healthy

    def camera_status(self) -> dict[str, str]:
        """One running camera, one reconnecting."""
        return {"a": "running", "b": "reconnecting", "c": "running", "boom": "running"}

    def latest_frame(self, camera: str) -> LiveFrame | None:
        """As described in the class docstring."""
        if camera == "a":
            return None
        if camera == "boom":
            raise RuntimeError("broken")
        if camera == "c":
            det = Detection("person", 0, 0.9, (0.2, 0.2, 0.4, 0.6))
            return LiveFrame(self.image, self.seq, 0.0, [det], [TrackBox(7, "person", det.box)])
        raise KeyError(camera)

    def cameras(self) -> dict[str, dict[str, object]]:
        """Status and a made-up fps."""
        return {name: {"status": s, "fps": 5.0} for name, s in self.camera_status().items()}

    def detector(self) -> dict[str, object]:
        """As described in the class docstring."""
        return {"device": "cpu", "runtime": "fake", "model": "fake", "check": "not run"}

    def rules(self) -> list[dict[str, object]]:
        """One rule, off."""
        return [{"name": "people", "kind": "presence", "camera": "c", "state": "OFF"}]

    def config(self) -> Config:
        """The test config."""
        return self.running


@contextmanager
def serving(
    view: FakeView | None = None, extra: dict[str, Any] | None = None, **http: Any
) -> Iterator[tuple[FakeView, WebServer]]:
    """A started web server on a free loopback port around ``view``."""
    view = view or FakeView()
    registry = CollectorRegistry()
    Counter("edgecam_test", "a test counter", registry=registry).inc(3)
    config = HttpConfig.model_validate({"listen": "127.0.0.1:0", **http})
    server = WebServer(config, view, registry, extra=extra)
    server.start()
    try:
        yield view, server
    finally:
        server.close()


class Client:
    """Requests to a served app, with the session's CSRF token on state-changing ones."""

    def __init__(self, server: WebServer, auth: str | None = None) -> None:
        self.base = server.url.rstrip("/")
        self.auth = auth
        self.csrf = server.policy.csrf

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        csrf: bool = True,
    ) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and (lower-cased) headers; errors included."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.auth:
            all_headers.setdefault("Authorization", self.auth)
        if csrf and method not in ("GET", "HEAD"):
            all_headers.setdefault("X-CSRF-Token", self.csrf)
        request = urllib.request.Request(self.base + path, body, all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=20) as reply:
                return reply.status, reply.read(), {k.lower(): v for k, v in reply.headers.items()}
        except urllib.error.HTTPError as err:
            return err.code, err.read(), {k.lower(): v for k, v in err.headers.items()}

    def json(self, method: str, path: str, body: object = None, **kw: Any) -> tuple[int, Any]:
        """The same, with a JSON body and answer."""
        data = None if body is None else json.dumps(body).encode()
        code, raw, _ = self.request(method, path, data, **kw)
        return code, json.loads(raw)
