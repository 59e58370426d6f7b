"""A small sd_notify client (standard library only) that does nothing outside systemd.

systemd passes ``NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace) and,
with ``WatchdogSec=``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``. Messages are ``KEY=value`` lines
sent as one datagram. See sd_notify(3).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


def socket_address(value: str) -> str | bytes | None:
    """The address in ``NOTIFY_SOCKET``: a path, or bytes with a NUL for an abstract socket."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock and other forms are not used on our devices


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """The watchdog timeout in seconds if systemd expects pings from process ``pid``, else None."""
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    owner = environ.get("WATCHDOG_PID", "")
    if owner and (not owner.isdigit() or int(owner) != pid):
        return None
    return int(usec) / 1_000_000


SEND_TIMEOUT = 1.0
"""Seconds a notification may wait for room at the receiver before it is given up."""


class Notifier:
    """Sends state changes to systemd; every method is a no-op when not run by systemd."""

    def __init__(self, address: str | bytes | None, watchdog: float | None = None) -> None:
        self.address = address
        self.watchdog = watchdog
        """The watchdog timeout in seconds, or None when systemd does not watch us."""
        self._sock: socket.socket | None = None
        if address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            # A receiver that stops reading fills its queue and would block us for good.
            self._sock.settimeout(SEND_TIMEOUT)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier systemd set up for this process (or an inert one)."""
        env = os.environ if environ is None else environ
        address = socket_address(env.get("NOTIFY_SOCKET", ""))
        return cls(address, watchdog_interval(env, os.getpid()))

    @property
    def enabled(self) -> bool:
        """True when there is a notify socket to talk to."""
        return self._sock is not None

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines in one datagram; False if not under systemd or it failed."""
        if self._sock is None or self.address is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            self._sock.sendto(message.encode(), self.address)
        except OSError as err:
            # systemd may be restarting; never let notification problems stop the service.
            log.debug("sd_notify failed: %s", err)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up is complete."""
        return self.send(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        """``STATUS=``: one line shown by ``systemctl status``."""
        return self.send(STATUS=text)

    def ping(self) -> bool:
        """``WATCHDOG=1``: we are alive and working."""
        return self.send(WATCHDOG=1)

    def reloading(self, monotonic_usec: int | None = None) -> bool:
        """``RELOADING=1`` with ``MONOTONIC_USEC`` (CLOCK_MONOTONIC, as systemd requires)."""
        usec = monotonic_usec if monotonic_usec is not None else time.monotonic_ns() // 1000
        return self.send(RELOADING=1, MONOTONIC_USEC=usec)

    def stopping(self) -> bool:
        """``STOPPING=1``: shutting down."""
        return self.send(STOPPING=1)

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass(frozen=True, slots=True)
class WatchdogPolicy:
    """When to ping: only while the pipeline's heartbeat is fresh, at half the timeout."""

    timeout: float
    """systemd's ``WatchdogSec`` in seconds."""
    stale_after: float
    """A heartbeat older than this means the pipeline is stuck: stop pinging."""

    @property
    def interval(self) -> float:
        """Seconds between pings (half the timeout, as sd_watchdog_enabled(3) advises)."""
        return self.timeout / 2

    def should_ping(self, now: float, heartbeat: float, last_ping: float) -> bool:
        """True if a ping is due at ``now`` and frames were analysed recently enough."""
        return now - last_ping >= self.interval and now - heartbeat <= self.stale_after
