"""The ``http:`` config section: where the web server listens, who may use it, what it may do."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator, model_validator

from edgecam.schema import ConfigPath, StrictModel

_LISTEN = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and any address in 127.0.0.0/8 or ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


class HttpConfig(StrictModel):
    """The web server: health, metrics, live views, the JSON API and the zone editor."""

    enabled: bool = True
    """Serve ``/healthz``, ``/metrics``, the pages and ``/api/...``."""
    listen: str = "127.0.0.1:8080"
    """``host:port`` to bind. Any address other than loopback needs a password or token file."""
    password_file: ConfigPath | None = None
    """File holding the password for HTTP Basic authentication (any user name)."""
    token_file: ConfigPath | None = None
    """File holding a token for ``Authorization: Bearer <token>`` (Prometheus, scripts)."""
    allow_config_write: bool = False
    """Let the editor write zones, lines and masks to the config file and reload it."""
    stream_fps: float = Field(default=5.0, gt=0.0, le=30.0)
    """Most frames per second encoded for viewers of a camera (only while someone watches)."""
    max_body: int = Field(default=1_048_576, ge=1024, le=16_777_216)
    """Largest request body accepted, in bytes; larger ones get 413."""
    request_timeout: float = Field(default=30.0, gt=0.0, le=600.0)
    """Seconds a request may take, headers included; a slower client is cut off."""

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        match = _LISTEN.match(value)
        if not match or not 0 <= int(match.group("port")) <= 65535:
            raise ValueError('expected "host:port", e.g. "127.0.0.1:8080" or "[::1]:8080"')
        return value

    @model_validator(mode="after")
    def _auth_off_loopback(self) -> HttpConfig:
        if self.enabled and not self.auth_configured and not is_loopback(self.address[0]):
            raise ValueError(
                f"listening on {self.listen} (not loopback) needs authentication: set "
                "http.password_file or http.token_file, or listen on 127.0.0.1"
            )
        return self

    @property
    def auth_configured(self) -> bool:
        """True when a password or token file is set (then every request but /healthz needs it)."""
        return self.password_file is not None or self.token_file is not None

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) pair to bind."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)
