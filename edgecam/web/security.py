"""One ASGI guard in front of every route: errors, host, authentication, CSRF, size and time limits.

- Any exception becomes a JSON 500 and one log line (a traceback only at debug level).
- On a loopback listen address only loopback host names are served (no DNS rebinding).
- With a password or token file, every request but ``/healthz`` needs it (HTTP Basic with any
  user name, or ``Authorization: Bearer``); secrets are compared in constant time, never logged.
- Every state-changing request carries the ``X-CSRF-Token`` of this server (from ``/api/session``
  or the page) and, when the browser sends one, an ``Origin`` equal to the page's own (scheme,
  host and port).
- Request bodies are capped; a request (its body included) must finish within the time limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgecam.config.http import HttpConfig, is_loopback
from edgecam.files import read_secret

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/healthz"})
"""Paths served without credentials: monitors probe health without holding the secret."""
STREAMING_PREFIXES = ("/cameras/",)
"""Long-lived answers (MJPEG streams) that the request time limit must not cut."""


class BodyTooLargeError(HTTPException):
    """A request body over the limit (a 413 wherever it is raised)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


@dataclass(frozen=True)
class Policy:
    """What the guard enforces, made once from the ``http:`` section."""

    password: str | None = None
    token: str | None = None
    loopback_only_hosts: bool = True
    max_body: int = 1_048_576
    timeout: float = 30.0
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @classmethod
    def from_config(cls, config: HttpConfig) -> Policy:
        """Read the secret files now (so a bad path fails at start, not at the first request)."""
        password = (
            read_secret(config.password_file, "password_file") if config.password_file else None
        )
        token = read_secret(config.token_file, "token_file") if config.token_file else None
        return cls(
            password,
            token,
            is_loopback(config.address[0]),
            config.max_body,
            config.request_timeout,
        )

    @property
    def auth(self) -> bool:
        """True when requests need credentials."""
        return self.password is not None or self.token is not None

    def authorised(self, header: str) -> bool:
        """True when the ``Authorization`` header carries the password or the token."""
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and self.token is not None:
            return hmac.compare_digest(value.strip().encode(), self.token.encode())
        if scheme == "basic" and self.password is not None:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return hmac.compare_digest(decoded.partition(":")[2].encode(), self.password.encode())
        return False


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _host_name(host: str) -> str:
    return urlsplit(f"//{host}").hostname or ""


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` with the default port filled in; None if it cannot be read."""
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:
        return None
    scheme = scheme.lower()
    return scheme, (parts.hostname or ""), port if port is not None else DEFAULT_PORTS.get(scheme)


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """True when the ``Origin`` header names this page's own scheme, host and port."""
    theirs_scheme, sep, theirs_netloc = origin.partition("://")
    if not sep:
        return False  # "null" (a sandboxed page or a file) is never this page
    theirs = _origin(theirs_scheme, theirs_netloc)
    return theirs is not None and theirs == _origin(scheme, host)


class Guard:
    """The ASGI middleware enforcing a :class:`Policy` around ``app``."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then run it under the size and time limits."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _reply(tracked_send, *refusal)
                return
            await self._run(scope, self._limited(scope, receive), tracked_send)
        except BodyTooLargeError:
            if not started:
                await _reply(tracked_send, 413, f"request body over {self.policy.max_body} bytes")
        except TimeoutError:
            log.debug(
                "HTTP %s %s: cut off after %gs", scope["method"], scope["path"], self.policy.timeout
            )
            if not started:
                await _reply(tracked_send, 408, "request took too long")
        except Exception:
            log.error(
                "HTTP %s %s failed",
                scope["method"],
                scope["path"],
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            if not started:
                await _reply(tracked_send, 500, "internal error")

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(STREAMING_PREFIXES) and scope["path"].endswith(".mjpg"):
            await self.app(scope, receive, send)
            return
        async with asyncio.timeout(self.policy.timeout):
            await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        policy, headers = self.policy, _headers(scope)
        if policy.loopback_only_hosts and not is_loopback(_host_name(headers.get("host", ""))):
            return 421, "this server answers only to localhost, 127.0.0.1 or [::1]", {}
        needs_auth = policy.auth and scope["path"] not in OPEN_PATHS
        if needs_auth and not policy.authorised(headers.get("authorization", "")):
            challenge = {"www-authenticate": 'Basic realm="edgecam", charset="UTF-8"'}
            return 401, "authentication required (password or token)", challenge
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            own = str(scope.get("scheme", "http"))
            if origin is not None and not same_origin(origin, own, headers.get("host", "")):
                return 403, "cross-origin request refused (scheme, host and port must match)", {}
            if not hmac.compare_digest(
                headers.get("x-csrf-token", "").encode(), policy.csrf.encode()
            ):
                return 403, "missing or wrong X-CSRF-Token header; get it from GET /api/session", {}
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > policy.max_body):
            return 413, f"request body over {policy.max_body} bytes", {}
        return None

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        """``receive`` that raises :class:`BodyTooLargeError` once the body passes the limit."""
        seen = 0
        limit = self.policy.max_body

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit)
            return message

        return limited


async def _reply(send: Send, code: int, error: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": code, "headers": raw})
    await send({"type": "http.response.body", "body": body})
