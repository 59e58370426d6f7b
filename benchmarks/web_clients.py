"""Figures for an endpoint no client can block: slow clients, 200 at once, clients that hang up.

    python -m benchmarks.web_clients

Against the web server with a fake service (as in ``tests/web``), on a loopback port:
- 50 sockets each sending a header line every 3 s: the slowest ``/healthz`` answer meanwhile, and
  when the server cut them off;
- 200 clients asking for ``latest.jpg`` at once: how many got their JPEG, and the slowest;
- 25 clients that reset the connection right after asking: how many log lines they made.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.web.fakes import serving


def _healthz(url: str) -> float:
    start = time.monotonic()
    with urllib.request.urlopen(url + "healthz", timeout=10) as reply:
        reply.read()
    return time.monotonic() - start


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def slow_clients(seconds: float = 12.0, timeout: float = 10.0) -> dict[str, Any]:
    """Probe /healthz while 50 clients trickle their headers."""
    with serving(request_timeout=timeout) as (_view, server):
        socks = []
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.settimeout(None)  # blocking, so MSG_DONTWAIT answers at once in _closed()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(sock)
        start = time.monotonic()
        probes, trickle, cut = [], start + 3.0, None
        while time.monotonic() - start < seconds:
            probes.append(_healthz(server.url))
            if cut is None and all(_closed(sock) for sock in socks):
                cut = time.monotonic() - start
            if time.monotonic() >= trickle:
                for sock in socks:
                    with contextlib.suppress(OSError):  # cut off already
                        sock.sendall(b"X-Slow: 1\r\n")
                trickle += 3.0
            time.sleep(0.2)
        for sock in socks:
            sock.close()
    return {
        "probes": len(probes),
        "healthz_max_s": round(max(probes), 3),
        "healthz_median_s": round(sorted(probes)[len(probes) // 2], 3),
        "slow_clients_cut_after_s": round(cut, 1) if cut else None,
    }


def many_clients(count: int = 200) -> dict[str, Any]:
    """``count`` clients asking for latest.jpg at the same moment."""
    with serving() as (_view, server):
        barrier = threading.Barrier(count)
        url = server.url + "cameras/c/latest.jpg"

        def fetch(_: int) -> float:
            barrier.wait(10)
            start = time.monotonic()
            with urllib.request.urlopen(url, timeout=60) as reply:
                ok = reply.read(2) == b"\xff\xd8"
            return time.monotonic() - start if ok else -1.0

        with ThreadPoolExecutor(count) as pool:
            times = list(pool.map(fetch, range(count)))
        encoded = server.frames.encoded
    good = [t for t in times if t >= 0]
    return {"clients": count, "answered": len(good), "slowest_s": round(max(good), 3),
            "jpegs_encoded": encoded}  # fmt: skip


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def hang_ups(count: int = 25) -> dict[str, Any]:
    """Clients that reset the connection right after their request, and the log lines made."""
    counter = _Count()
    root = logging.getLogger()
    root.addHandler(counter)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with serving() as (_view, server):
            before = len(counter.records)
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                sock.sendall(b"GET /cameras/c/stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            time.sleep(1.0)
            made = counter.records[before:]
    finally:
        root.removeHandler(counter)
        root.setLevel(level)
    return {
        "hang_ups": count,
        "log_lines": len(made),
        "above_debug": sum(r.levelno > logging.DEBUG for r in made),
        "with_traceback": sum(r.exc_info is not None for r in made),
    }


def main() -> None:
    """Print the three figures as one JSON object."""
    print(json.dumps({"slow": slow_clients(), "many": many_clients(), "hang_ups": hang_ups()}))


if __name__ == "__main__":
    main()
