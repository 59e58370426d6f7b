"""Real receivers on 127.0.0.1 for the notify tests: a webhook, an ntfy-style server, SMTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Request:
    """One HTTP request as a receiver got it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float
    """``time.time()`` when it was received."""

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """An HTTP server on 127.0.0.1 that records every request and answers 200 ``{}``.

    :meth:`stop` closes the port (a receiver that is down: connection refused), :meth:`start`
    opens the same port again.
    """

    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> HttpReceiver:
        """Listen (again) on the receiver's port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                url = urlsplit(self.path)
                got = Request(
                    self.command,
                    url.path,
                    parse_qs(url.query),
                    dict(self.headers),
                    body,
                    time.time(),
                )
                with receiver._lock:
                    receiver.requests.append(got)
                reply = b'{"id": "x", "event": "message"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = _any  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float) -> list[Request]:
        """Wait until ``count`` requests arrived; fail after ``timeout`` seconds."""
        wait_until(lambda: len(self.requests) >= count, timeout, lambda: self.requests)
        return list(self.requests)


def wait_until(done: Callable[[], bool], timeout: float, got: Callable[[], Any]) -> Any:
    """Poll ``done`` every 10 ms; ``got()`` when true, AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s; got {got()!r:.2000}")
        time.sleep(0.01)
    return got()


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 keeping every message it receives."""

    def __init__(self) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError as err:  # the test extra has it
            raise AssertionError("aiosmtpd is missing: pip install -e '.[test]'") from err
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                message = message_from_bytes(envelope.content, policy=policy.default)
                assert isinstance(message, EmailMessage)
                receiver.messages.append(message)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        """Start listening."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()
