"""Helpers for service tests: a real notify socket and ``edgecam run`` as a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import DATA

HERE = Path(__file__).parent
_LISTEN = re.compile(r"HTTP endpoint on http://([\d.]+):(\d+)/")


class NotifySocket:
    """The datagram socket systemd would listen on, bound in a temporary directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def receive(self, timeout: float) -> dict[str, str] | None:
        """The next message as a dict of its fields, or None after ``timeout`` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().splitlines())
        self.messages.append(fields)
        return fields

    def wait_for(self, key: str, timeout: float = 60.0) -> dict[str, str]:
        """Receive until a message with ``key`` arrives; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message is not None and key in message:
                return message
        raise AssertionError(f"no {key} within {timeout}s; got {self.messages}")

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def write_config(path: Path, rule: str = "people", extra: str = "") -> Path:
    """A small config: the test clip looped in real time, 5 fps, HTTP on a free port."""
    path.write_text(
        "device: {name: svc}\n"
        "cameras:\n"
        f"  plaza: {{source: {{type: file, path: {DATA / 'vtest.avi'}, loop: true}}, fps: 5}}\n"
        "rules:\n"
        f"  - {{name: {rule}, kind: presence, labels: [person], min_score: 0.5}}\n"
        'http: {listen: "127.0.0.1:0"}\n'
        "health: {stale_after: 1s, invoke_timeout: 60s, stop_timeout: 5s}\n" + extra
    )
    return path


class Service:
    """A running ``edgecam run`` subprocess with its stderr in a file."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    def stderr(self) -> str:
        """Everything logged so far."""
        return self.log.read_text()

    def wait_log(self, pattern: str, timeout: float = 60.0, count: int = 1) -> str:
        """Wait until ``pattern`` appears ``count`` times in the log; return the log."""
        return wait(lambda: len(re.findall(pattern, self.stderr())) >= count, timeout, self.stderr)

    def url(self, path: str) -> str:
        """The URL of ``path`` on the service's HTTP endpoint."""
        text = self.wait_log(_LISTEN.pattern)
        host, port = _LISTEN.findall(text)[0]
        return f"http://{host}:{port}{path}"

    def get(self, path: str) -> tuple[int, str, bytes]:
        """GET ``path``: status, content type, body (errors included)."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as reply:
                return reply.status, reply.headers["Content-Type"], reply.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers["Content-Type"], err.read()

    def get_json(self, path: str) -> tuple[int, dict[str, object]]:
        """GET ``path`` and decode its JSON body."""
        code, _, body = self.get(path)
        return code, json.loads(body)

    def signal(self, signum: signal.Signals) -> None:
        """Send a signal to the service."""
        self.proc.send_signal(signum)


def wait(done: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> str:
    """Poll ``done`` until true; fail with ``describe()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; state:\n{describe()}")
        time.sleep(0.1)
    return describe()


@contextmanager
def running(
    tmp_path: Path, args: list[str], notify: NotifySocket | None, *, hang_flag: Path | None = None
) -> Iterator[Service]:
    """Start ``edgecam ARGS`` (through the hang wrapper if ``hang_flag``); kill it at the end."""
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "WATCHDOG_PID")}
    env["PYTHONUNBUFFERED"] = "1"
    if notify is not None:
        env.update(NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="1000000")
    if hang_flag is not None:
        command = [sys.executable, str(HERE / "hang_run.py"), str(hang_flag), *args]
    else:
        command = [sys.executable, "-m", "edgecam", *args]
    log = tmp_path / "stderr.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=Path.cwd()
        )
    try:
        yield Service(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
