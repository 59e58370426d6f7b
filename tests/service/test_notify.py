"""sd_notify over a real AF_UNIX datagram socket; the watchdog policy with time passed in."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from edgecam.service.notify import Notifier, WatchdogPolicy, socket_address, watchdog_interval
from tests.service.harness import NotifySocket


def test_messages_reach_a_path_socket(tmp_path: Path) -> None:
    server = NotifySocket(tmp_path / "notify")
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(server.path)})
    assert notifier.enabled and notifier.watchdog is None
    assert notifier.ready("starting done")
    assert notifier.status("9.5 fps on cpu")
    assert notifier.ping()
    assert notifier.reloading(1234)
    assert notifier.stopping()
    got = [server.receive(5.0) for _ in range(5)]
    assert got == [
        {"READY": "1", "STATUS": "starting done"},
        {"STATUS": "9.5 fps on cpu"},
        {"WATCHDOG": "1"},
        {"RELOADING": "1", "MONOTONIC_USEC": "1234"},
        {"STOPPING": "1"},
    ]
    notifier.close()
    server.close()


def test_reloading_stamps_the_monotonic_clock(tmp_path: Path) -> None:
    server = NotifySocket(tmp_path / "notify")
    notifier = Notifier(str(server.path))
    notifier.reloading()
    message = server.receive(5.0)
    assert message is not None and int(message["MONOTONIC_USEC"]) > 0
    notifier.close()
    server.close()


def test_abstract_namespace_socket() -> None:
    name = f"edgecam-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(b"\0" + name.encode())
    server.settimeout(5.0)
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": f"@{name}"})
    assert notifier.ready()
    assert server.recv(100) == b"READY=1"
    notifier.close()
    server.close()


def test_nothing_happens_outside_systemd() -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled
    assert not notifier.ready() and not notifier.ping() and not notifier.stopping()
    assert socket_address("vsock:2:123") is None
    notifier.close()


def test_a_vanished_socket_is_not_an_error(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "gone"))
    assert notifier.ping() is False
    notifier.close()


def test_a_receiver_that_stops_reading_never_blocks_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from edgecam.service import notify as notify_module

    monkeypatch.setattr(notify_module, "SEND_TIMEOUT", 0.2)
    receiver = NotifySocket(tmp_path / "full.sock")  # bound, never read
    notifier = Notifier(str(receiver.path))
    start = time.monotonic()
    sent = [notifier.ping() for _ in range(16)]
    took = time.monotonic() - start
    notifier.close()
    receiver.close()
    assert sent[0] and not all(sent)  # the first go through, then the queue is full
    # Each blocked send gives up after the timeout; without it this would hang forever.
    assert took <= sent.count(False) * 0.2 + 5.0


def test_watchdog_settings() -> None:
    pid = os.getpid()
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}, pid) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(pid)}, pid) == 2.0
    # Another process's watchdog (not PID 1: the suite may run as PID 1 in a container).
    other = str(pid + 1)
    assert watchdog_interval({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": other}, pid) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}, pid) is None
    assert watchdog_interval({}, pid) is None


def test_pings_at_half_the_timeout_only_while_the_heartbeat_is_fresh() -> None:
    policy = WatchdogPolicy(timeout=10.0, stale_after=3.0)
    assert policy.interval == 5.0
    assert policy.should_ping(now=100.0, heartbeat=99.0, last_ping=float("-inf"))
    assert not policy.should_ping(now=104.0, heartbeat=103.9, last_ping=100.0)  # not due yet
    assert policy.should_ping(now=105.0, heartbeat=104.9, last_ping=100.0)
    assert not policy.should_ping(now=110.0, heartbeat=106.9, last_ping=105.0)  # stale: hung
    # Simulated 60 s at 10 ticks/s with frames flowing: one ping per 5 s.
    last, pings = float("-inf"), 0
    for tick in range(600):
        now = tick / 10
        if policy.should_ping(now, now, last):
            last, pings = now, pings + 1
    assert pings == 12
