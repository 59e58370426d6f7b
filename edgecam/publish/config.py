"""The ``mqtt:`` section of the config: broker, security, outbox and Home Assistant discovery."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from edgecam.schema import ConfigPath, Duration, StrictModel

TopicPrefix = Annotated[str, Field(pattern=r"^[^#+/\s]([^#+\s]*[^#+/\s])?$", max_length=200)]
"""A topic prefix: no wildcards, no spaces, no leading or trailing ``/``."""


def _protocol_text(value: object) -> object:
    # YAML reads ``protocol: 5`` as an int and ``protocol: 3.1.1`` as a string.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class TlsConfig(StrictModel):
    """TLS to the broker; an empty section means TLS with the system's CA certificates."""

    ca_file: ConfigPath | None = None
    """CA certificate(s) that signed the broker's certificate (PEM); default: the system's."""
    certfile: ConfigPath | None = None
    """Client certificate (PEM), for brokers that require one; needs ``keyfile``."""
    keyfile: ConfigPath | None = None
    """Private key of the client certificate (PEM)."""
    insecure: bool = False
    """Do not verify the broker's certificate or host name (self-signed brokers). Unsafe."""
    strict: bool = True
    """Strict X.509 verification (as Python 3.13 does by default), on every Python. ``false``
    accepts a CA made without the extensions it wants (key usage...), with a warning at every
    start; re-issue such a CA instead (docs/mqtt.md)."""

    @model_validator(mode="after")
    def _cert_and_key(self) -> TlsConfig:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together: give both or neither")
        return self


class OutboxConfig(StrictModel):
    """The durable outbox: events wait here (SQLite, WAL) until the broker acknowledges them."""

    path: ConfigPath | None = None
    """SQLite file; default: ``$STATE_DIRECTORY`` or ``/var/lib/edgecam`` when writable, else
    ``$XDG_STATE_HOME/edgecam`` (``~/.local/state/edgecam``), file ``outbox.sqlite``."""
    max_events: int = Field(default=100_000, ge=10, le=100_000_000)
    """Bound on pending events; when full the oldest are dropped, counted and logged."""
    synchronous: Literal["normal", "full"] = "normal"
    """SQLite ``synchronous``: ``normal`` survives a crash of edgecam (the contract) without an
    fsync per event; ``full`` also survives a power cut, at one fsync per event."""


class HomeAssistantConfig(StrictModel):
    """Home Assistant MQTT discovery."""

    discovery: bool = False
    """Publish discovery configs so that Home Assistant creates the entities by itself."""
    prefix: TopicPrefix = "homeassistant"
    """Home Assistant's discovery prefix."""
    snapshots: bool = False
    """Also announce an image entity per rule showing its latest snapshot."""


class ReconnectConfig(StrictModel):
    """Reconnect backoff: the delay doubles after each failed attempt, up to ``max_delay``."""

    min_delay: Duration = Field(default=1.0, ge=1.0, le=3600.0)
    """First delay after a lost connection (whole seconds)."""
    max_delay: Duration = Field(default=30.0, ge=1.0, le=3600.0)
    """Cap of the delay between attempts (whole seconds)."""


class MqttConfig(StrictModel):
    """Where events, states and stats are published (docs/architecture.md, MQTT contract)."""

    host: str = Field(default="127.0.0.1", min_length=1)
    """Broker host name or address."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """Broker port; default 8883 with ``tls``, else 1883."""
    protocol: Annotated[Literal["5", "3.1.1"], BeforeValidator(_protocol_text)] = "5"
    """MQTT protocol version: ``5`` or ``3.1.1``."""
    client_id: str | None = Field(default=None, min_length=1, max_length=128)
    """Client id, stable per device; default ``edgecam-<device name>``. Must be unique."""
    prefix: TopicPrefix = "edgecam"
    """First topic level: topics are ``<prefix>/<device>/...``."""
    username: str | None = None
    """User name for the broker."""
    password_file: ConfigPath | None = None
    """File holding the password (read at start, never logged); needs ``username``."""
    tls: TlsConfig | None = None
    """TLS settings; absent means plain TCP."""
    connect_timeout: Duration = Field(default=10.0, ge=1.0, le=300.0)
    """How long connecting may take: the TCP and TLS connection, then the broker's answer to
    CONNECT; past it edgecam warns, naming the broker, and tries again."""
    keepalive: Duration = Field(default=60.0, ge=5.0, le=3600.0)
    """Keep-alive interval; the broker publishes the last will after 1.5 times this."""
    reconnect: ReconnectConfig = Field(default_factory=ReconnectConfig)
    """Reconnect backoff."""
    flush_timeout: Duration = Field(default=5.0, ge=0.0, le=300.0)
    """On a clean stop, how long to wait for pending events to be acknowledged."""
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    """The durable outbox."""
    home_assistant: HomeAssistantConfig = Field(default_factory=HomeAssistantConfig)
    """Home Assistant MQTT discovery."""

    @model_validator(mode="after")
    def _password_needs_user(self) -> MqttConfig:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs username")
        return self

    @property
    def effective_port(self) -> int:
        """The port to connect to (the default depends on TLS)."""
        if self.port is not None:
            return self.port
        return 8883 if self.tls is not None else 1883
