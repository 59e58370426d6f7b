"""The link to the broker as the publisher thread sees it: up, down since when, and why.

Every state is logged once when it begins (a new reason is a new state), never per attempt, and
``/healthz`` says degraded while the broker has not answered for longer than ``connect_timeout``
(:meth:`BrokerLink.degraded`): a broker that accepts TCP and never speaks MQTT is not "ok".
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from edgecam.publish.config import MqttConfig
from edgecam.publish.topics import Topics
from edgecam.ratelimit import RateLimitedLog

if TYPE_CHECKING:
    from paho.mqtt.client import Client

log = logging.getLogger("edgecam.publish.mqtt")

_AUTH_REASONS = ("bad user name or password", "not authorized", "bad username or password")


class BrokerLink:
    """Whether the broker is connected, since when it is not, and the lines that say so."""

    def __init__(
        self,
        config: MqttConfig,
        noisy: RateLimitedLog,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.connected = False
        self._noisy = noisy
        self._clock = clock
        self._down_since = clock()
        """Monotonic time since when the broker has not been connected."""
        self._unreachable: str | None = None
        """The reason last logged for failing connection attempts (logged again if it changes)."""
        self.answer_due: float | None = None
        """Monotonic time by which the broker must answer our CONNECT."""

    @property
    def name(self) -> str:
        """``host:port`` of the broker, as in the log and the ``connected`` gauge."""
        return f"{self.config.host}:{self.config.effective_port}"

    def degraded(self) -> str | None:
        """Why delivery waits (the broker silent for over ``connect_timeout``), else None."""
        if self.connected:
            return None
        silent = self._clock() - self._down_since
        if silent <= self.config.connect_timeout:
            return None
        return f"the MQTT broker at {self.name} has not answered for {silent:.0f}s"

    def opened(self) -> None:
        """TCP is up: CONNECT must be answered within ``connect_timeout``."""
        self.answer_due = self._clock() + self.config.connect_timeout

    def failed(self, reason: str) -> None:
        """A connection attempt failed before CONNECT (refused, unreachable, TLS)."""
        self.answer_due = None
        if reason != self._unreachable:
            self._unreachable = reason
            log.warning(
                "MQTT: cannot connect to the broker at %s: %s; retrying, events wait in the outbox",
                self.name, reason,
            )  # fmt: skip

    def answered(self, reason: str, failed: bool, pending: int) -> bool:
        """CONNACK arrived; True if the broker accepted us."""
        self.answer_due = None
        if failed:
            hint = (
                "check mqtt.username and mqtt.password_file"
                if reason.lower() in _AUTH_REASONS
                else "check the broker's settings and log"
            )
            self._noisy.error(
                "refused-connect",
                "MQTT: the broker at %s refused the connection: %s; %s. Retrying; events wait "
                "in the outbox (%d pending)", self.name, reason, hint, pending,
            )  # fmt: skip
            return False
        self.connected = True
        self._unreachable = None
        # Rate-limited too: a broker that drops us in a loop must not flood the log.
        self._noisy.log(
            logging.INFO, "connected", "MQTT: connected to %s, %d event(s) to send",
            self.name, pending,
        )  # fmt: skip
        return True

    def lost(self, reason: str) -> None:
        """The connection went away."""
        self.answer_due = None
        if self.connected:
            self._down_since = self._clock()
            self._noisy.warning(
                "lost", "MQTT: connection to %s lost (%s); reconnecting, events wait in the "
                "outbox", self.name, reason,
            )  # fmt: skip
        self.connected = False

    def check_answer(self, client: Client | None) -> None:
        """If CONNECT went unanswered in time: say so and make paho try again."""
        if self.answer_due is None or self._clock() < self.answer_due:
            return
        self.answer_due = None
        self._noisy.warning(
            "no-answer",
            "MQTT: the broker at %s accepted the connection but did not answer CONNECT within "
            "%gs (overloaded, or not an MQTT broker on that port?); retrying, events wait in the "
            "outbox", self.name, self.config.connect_timeout,
        )  # fmt: skip
        sock = client.socket() if client is not None else None
        if isinstance(sock, socket.socket):  # an ssl.SSLSocket is one too
            # paho sees the connection lost and reconnects with its backoff.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def subscribe(client: Client, config: MqttConfig, topics: Topics) -> None:
    """Subscribe to the ``detect/set`` commands (never their retained copies)."""
    if config.protocol == "5":
        from paho.mqtt.subscribeoptions import SubscribeOptions

        # Retained commands are never wanted: the broker need not even send them.
        options = SubscribeOptions(
            qos=1, noLocal=True, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND
        )
        client.subscribe(topics.detect_set_filter, options=options)
    else:
        client.subscribe(topics.detect_set_filter, qos=1)
