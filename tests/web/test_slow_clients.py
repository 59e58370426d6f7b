"""No client can block the endpoint (issue #16, item 4): slow, many, and vanishing clients."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.web.fakes import serving


def _slow_socket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def _probe(url: str) -> float:
    """Seconds /healthz took to answer 200."""
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=5) as reply:
        assert reply.status == 200
    return time.monotonic() - start


def test_slow_clients_do_not_hold_healthz() -> None:
    # 50 clients each sending a header line every 3 s, as measured in the issue.
    with serving(request_timeout=7.5) as (_view, server):
        slow = [_slow_socket(server.port) for _ in range(50)]
        probes: list[float] = []
        end = time.monotonic() + 6.5
        next_trickle = time.monotonic() + 3.0
        while time.monotonic() < end:
            probes.append(_probe(server.url + "healthz"))
            if time.monotonic() >= next_trickle:
                for sock in slow:
                    sock.sendall(b"X-Slow: 1\r\n")
                next_trickle += 3.0
            time.sleep(0.25)
        assert len(probes) >= 10 and max(probes) < 2.0, probes
        # Past the deadline the server has cut every slow client off.
        for sock in slow:
            sock.settimeout(5.0)
            assert sock.recv(100) == b""
            sock.close()


def test_two_hundred_concurrent_clients_all_get_the_frame() -> None:
    with serving() as (_view, server):
        url = server.url + "cameras/c/latest.jpg"
        barrier = threading.Barrier(200)

        def fetch(_: int) -> int:
            barrier.wait(10)
            with urllib.request.urlopen(url, timeout=30) as reply:
                return reply.status if reply.read(2) == b"\xff\xd8" else -1

        with ThreadPoolExecutor(200) as pool:
            codes = list(pool.map(fetch, range(200)))
        assert codes == [200] * 200
        assert server.frames.encoded <= 2  # one frame, encoded once for all (two kinds at most)


def test_clients_that_hang_up_log_little(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serving() as (_view, server):
        for _ in range(25):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET /cameras/c/stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            # Reset, not a polite close: the answer's writes hit a dead socket.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        time.sleep(1.0)
        assert _probe(server.url + "healthz") < 2.0
    lines = [r for r in caplog.records if r.name.startswith(("edgecam", "uvicorn", "asyncio"))]
    assert all(r.levelno <= logging.INFO and r.exc_info is None for r in lines), [
        (r.name, r.getMessage()) for r in lines if r.levelno > logging.INFO
    ]
    hung_up = [r for r in lines if "hung up" in r.getMessage()]
    assert len(hung_up) <= 25 and len(lines) <= 27, [r.getMessage() for r in lines]
