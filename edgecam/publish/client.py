"""The paho-mqtt client, set up from the config; its callbacks only hand work to the publisher.

paho runs its callbacks on its network thread, and an exception there kills that thread, so each
callback turns what happened into a small value and puts it on a queue, inside ``try``.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edgecam.publish.config import MqttConfig
from edgecam.publish.topics import OFFLINE

if TYPE_CHECKING:
    from paho.mqtt.client import Client

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Connected:
    """The broker answered a connect: accepted, or refused with ``reason``."""

    reason: str
    failed: bool


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    """A connection attempt failed before the broker answered (down, unreachable, TLS)."""

    reason: str
    """What failed, in words, with what to check."""


@dataclass(frozen=True, slots=True)
class SocketOpened:
    """The TCP (and TLS) connection is up and CONNECT was sent; the broker's answer is due."""


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection was lost or closed."""

    reason: str


@dataclass(frozen=True, slots=True)
class Acked:
    """The broker acknowledged message ``mid`` (PUBACK); ``failed`` if it refused it."""

    mid: int
    reason: str
    failed: bool


@dataclass(frozen=True, slots=True)
class Received:
    """A message on a subscribed topic."""

    topic: str
    payload: bytes
    retain: bool


ClientWork = Connected | ConnectFailed | SocketOpened | Disconnected | Acked | Received
"""What the paho callbacks hand over."""


def create_client(
    config: MqttConfig,
    client_id: str,
    will_topic: str,
    password: str | None,
    hand_over: Callable[[ClientWork], None],
) -> Client:
    """A paho client with callbacks, last will, credentials, TLS and backoff; not yet connected."""
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    api = CallbackAPIVersion.VERSION2
    recording = _recording_client()
    if config.protocol == "5":
        client = recording(api, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    else:
        # A clean session: the outbox, not the broker, keeps what is not yet delivered.
        v311 = MQTTProtocolVersion.MQTTv311
        client = recording(api, client_id=client_id, protocol=v311, clean_session=True)
    client.connect_timeout = config.connect_timeout  # TCP connect and TLS handshake
    _set_callbacks(client, hand_over, tls=config.tls is not None)
    # The publisher bounds what it hands over; paho must never hold messages back itself.
    client.max_inflight_messages_set(0)
    client.will_set(will_topic, OFFLINE, qos=1, retain=True)
    if config.username is not None:
        client.username_pw_set(config.username, password)
    if config.tls is not None:
        _set_tls(client, config)
    client.reconnect_delay_set(
        max(1, round(config.reconnect.min_delay)), max(1, round(config.reconnect.max_delay))
    )
    return client


def _set_tls(client: Client, config: MqttConfig) -> None:
    from edgecam.publish.credentials import tls_context

    tls = config.tls
    assert tls is not None
    # Our own context: an encrypted key is an error here, never a pass phrase prompt.
    client.tls_set_context(tls_context(tls))
    if tls.insecure:
        client.tls_insecure_set(True)
        log.warning("mqtt.tls.insecure: the broker's certificate and host name are NOT verified")
    elif not tls.strict:
        log.warning(
            "mqtt.tls.strict is false: the broker's CA is accepted without the extensions strict "
            "X.509 verification wants; re-issue it (docs/mqtt.md) and remove the setting"
        )


def _recording_client() -> type[Client]:
    """paho's client class, remembering why the last connection attempt failed.

    paho catches that error and calls ``on_connect_fail`` without it; the user needs to know
    whether the broker is down, the certificate untrusted or the host name wrong.
    """
    from paho.mqtt.client import Client

    class RecordingClient(Client):
        last_error: OSError | None = None

        def _create_socket(self) -> Any:
            try:
                sock = super()._create_socket()
            except OSError as err:
                self.last_error = err
                raise
            self.last_error = None
            return sock

        def _ssl_wrap_socket(self, tcp_sock: socket.socket) -> ssl.SSLSocket:
            # paho's own leaves a socket whose handshake failed open (a ResourceWarning per
            # retry); the context checks the host name itself (tls_context sets it up).
            context = self._ssl_context
            assert context is not None
            ssl_sock = context.wrap_socket(
                tcp_sock, server_hostname=self._host, do_handshake_on_connect=False
            )
            try:
                ssl_sock.settimeout(self._connect_timeout)
                ssl_sock.do_handshake()
            except BaseException:
                ssl_sock.close()
                raise
            return ssl_sock

    return RecordingClient


# OpenSSL 3's X509_V_ERR_* codes that only strict verification (VERIFY_X509_STRICT) raises:
# INVALID_CA (79) to EC_KEY_EXPLICIT_PARAMS (94), e.g. 92 "CA cert does not include key usage
# extension", 89 "Basic Constraints of CA cert not marked critical".
_STRICT_ONLY = range(79, 95)


def describe_failure(err: BaseException | None, tls: bool) -> str:
    """Why a connection attempt failed, in words, with what to check."""
    if isinstance(err, ssl.SSLCertVerificationError):
        message = err.verify_message or str(err)
        if err.verify_code in _STRICT_ONLY:
            return (
                f"TLS certificate refused by strict X.509 verification ({message}): the broker's "
                "CA or certificate lacks extensions Python 3.13 and edgecam require; re-issue "
                "them as docs/mqtt.md shows (or set mqtt.tls.strict: false, warned at each start)"
            )
        if "mismatch" in message.lower():
            return (
                f"TLS hostname mismatch ({message}); connect by a name or address the "
                "broker's certificate lists (mqtt.host)"
            )
        return (
            f"TLS certificate verify failed ({message}); mqtt.tls.ca_file must be the CA that "
            "signed the broker's certificate"
        )
    if isinstance(err, ssl.SSLError):
        reason = err.reason or str(err)
        if reason == "WRONG_VERSION_NUMBER":
            return (
                "TLS handshake failed: the broker does not speak TLS on this port; check mqtt.port"
            )
        return f"TLS handshake refused ({reason}); check the broker's TLS settings"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused: nothing listens there; is the broker running, mqtt.port right?"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve the host name ({err.strerror}); check mqtt.host"
    if isinstance(err, TimeoutError):
        return "no answer to the connection attempt (timed out); is the host up, the port open?"
    if isinstance(err, ConnectionResetError | BrokenPipeError) and tls:
        return (
            "TLS handshake refused: the broker closed the connection (is mqtt.port its TLS "
            "port? does it want a client certificate?)"
        )
    if isinstance(err, OSError):
        return f"{err.strerror or err}; is the broker up and reachable?"
    return "down or unreachable"


def _set_callbacks(client: Client, hand_over: Callable[[ClientWork], None], *, tls: bool) -> None:
    def safely(work: Callable[[], ClientWork]) -> None:
        try:
            hand_over(work())
        except Exception:  # a raise here would kill paho's network thread
            log.exception("MQTT callback failed")

    def on_connect(_c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        safely(lambda: Connected(str(reason), bool(reason.is_failure)))

    def on_connect_fail(c: Any, _u: Any) -> None:
        safely(lambda: ConnectFailed(describe_failure(getattr(c, "last_error", None), tls)))

    def on_socket_open(_c: Any, _u: Any, _sock: Any) -> None:
        safely(SocketOpened)

    def on_disconnect(_c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        safely(lambda: Disconnected(str(reason)))

    def on_publish(_c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        safely(lambda: Acked(mid, str(reason), bool(reason.is_failure)))

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        safely(lambda: Received(message.topic, bytes(message.payload), bool(message.retain)))

    client.on_connect = on_connect
    client.on_connect_fail = on_connect_fail
    client.on_socket_open = on_socket_open
    client.on_disconnect = on_disconnect
    client.on_publish = on_publish
    client.on_message = on_message
