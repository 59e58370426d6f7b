"""A real Mosquitto broker for tests, and a paho subscriber that records what it receives."""

from __future__ import annotations

import contextlib
import getpass
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MOSQUITTO = Path("/usr/sbin/mosquitto")


def mosquitto_binary() -> Path:
    """The broker binary, or a failure saying how to install it."""
    if not MOSQUITTO.exists():
        raise RuntimeError(f"{MOSQUITTO} not found; install it: apt-get install mosquitto")
    return MOSQUITTO


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Certs:
    """A test CA and a broker certificate it signed (for 127.0.0.1 and localhost)."""

    ca: Path
    server_cert: Path
    server_key: Path


# The extensions strict X.509 verification wants (Python 3.13 sets VERIFY_X509_STRICT, and edgecam
# sets it on every Python): docs/mqtt.md gives users the same recipe.
CA_EXTENSIONS = """\
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""
# The old way (before OpenSSL 3.x's defaults or by hand): a CA without key usage, which strict
# verification refuses ("CA cert does not include key usage extension").
LEGACY_CA_EXTENSIONS = """\
basicConstraints = critical, CA:TRUE
subjectKeyIdentifier = hash
"""
SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = {san}
"""
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl() -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl not found; install it: apt-get install openssl")
    return openssl


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def make_certs(directory: Path, *, legacy_ca: bool = False) -> Certs:
    """Generate the CA and the broker certificate with the openssl command-line tool.

    ``legacy_ca``: a CA made the old way, without key usage, which strict verification refuses.
    """
    openssl = _openssl()
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    # Our own config file, so the distribution's openssl.cnf adds nothing.
    config = directory / "ca.cnf"
    extensions = LEGACY_CA_EXTENSIONS if legacy_ca else CA_EXTENSIONS
    config.write_text(f"[req]\ndistinguished_name = dn\n[dn]\n[ca]\n{extensions}")
    _run(openssl, "req", "-x509", *_EC, "-days", "2", "-subj", "/CN=edgecam test CA", "-config",
         str(config), "-extensions", "ca", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    server_cert, server_key = sign_server(directory, ca, "IP:127.0.0.1,DNS:localhost")
    return Certs(ca, server_cert, server_key)


def sign_server(directory: Path, ca: Path, san: str, name: str = "localhost") -> tuple[Path, Path]:
    """A broker certificate for ``san`` signed by ``ca`` (its key beside it, ``ca.key``)."""
    openssl = _openssl()
    directory.mkdir(parents=True, exist_ok=True)
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    config = directory / "server.cnf"
    config.write_text("[req]\ndistinguished_name = dn\n[dn]\n")
    _run(openssl, "req", "-new", *_EC, "-config", str(config), "-subj", f"/CN={name}",
         "-keyout", str(key), "-out", str(csr))  # fmt: skip
    ext = directory / "server.ext"
    ext.write_text(SERVER_EXTENSIONS.format(san=san))
    _run(openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey",
         str(ca.with_name("ca.key")), "-CAcreateserial", "-days", "2", "-extfile", str(ext),
         "-out", str(cert))  # fmt: skip
    return cert, key


class Broker:
    """Mosquitto on a free loopback port, with its config in ``workdir``; stop and start again."""

    def __init__(
        self, workdir: Path, *, certs: Certs | None = None, users: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.certs = certs
        self.log = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        self._passwords = workdir / "passwords"
        workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",
            "persistence true",  # sessions and retained messages survive a restart
            f"persistence_location {workdir}/",
            f"log_dest file {self.log}",
            "log_type all",
            "max_queued_messages 100000",
            "max_inflight_messages 0",
        ]
        if users:
            self.set_users(users)
            lines += ["allow_anonymous false", f"password_file {self._passwords}"]
        else:
            lines.append("allow_anonymous true")
        if certs:
            lines += [f"cafile {certs.ca}", f"certfile {certs.server_cert}",
                      f"keyfile {certs.server_key}"]  # fmt: skip
        self.conf.write_text("\n".join(lines) + "\n")

    def set_users(self, users: dict[str, str]) -> None:
        """Write the password file (reloaded by a running broker on ``reload()``)."""
        self._passwords.unlink(missing_ok=True)
        for user, password in users.items():
            flag = ["-c"] if not self._passwords.exists() else []
            subprocess.run(
                ["mosquitto_passwd", *flag, "-b", str(self._passwords), user, password],
                check=True, capture_output=True,
            )  # fmt: skip
        self._passwords.chmod(0o600)

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [str(mosquitto_binary()), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"mosquitto exited: {err} {self.log_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the broker cleanly (it saves sessions and retained messages)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    def reload(self) -> None:
        """Make the broker re-read its password file (SIGHUP)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGHUP)

    def log_text(self) -> str:
        """What the broker logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass(frozen=True)
class Message:
    """One received message."""

    topic: str
    payload: bytes
    retain: bool


@dataclass
class Subscriber:
    """A paho client with a persistent session that records every message on ``topics``."""

    broker: Broker
    topics: list[str]
    username: str | None = None
    password: str | None = None
    client_id: str = "test-subscriber"
    messages: list[Message] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _client: Any = None
    _subscribed: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Subscriber:
        """Connect, subscribe (QoS 1) and wait for the subscription."""
        from paho.mqtt.client import Client
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        client = Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False,
            protocol=MQTTProtocolVersion.MQTTv311,
        )  # fmt: skip
        client.reconnect_delay_set(1, 1)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.broker.certs:
            client.tls_set(ca_certs=str(self.broker.certs.ca), cert_reqs=ssl.CERT_REQUIRED)
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *_args: self._subscribed.set()
        client.on_message = self._on_message
        client.connect_async("127.0.0.1", self.broker.port, keepalive=30)
        client.loop_start()
        self._client = client
        if not self._subscribed.wait(10.0):
            raise RuntimeError("the test subscriber could not subscribe")
        return self

    def _on_connect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            client.subscribe([(topic, 1) for topic in self.topics])

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        with self._cond:
            self.messages.append(Message(message.topic, bytes(message.payload), message.retain))
            self._cond.notify_all()

    def on(self, topic: str) -> list[Message]:
        """Messages received on ``topic`` so far."""
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(
        self, done: Callable[[list[Message]], bool], timeout: float = 30.0, what: str = ""
    ) -> list[Message]:
        """Wait until ``done(messages)`` holds; fail after ``timeout`` (not a timing test)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tail = [(m.topic, m.payload[:80]) for m in self.messages[-10:]]
                    raise AssertionError(f"timed out waiting for {what or done}: last {tail}")
                self._cond.wait(remaining)
            return list(self.messages)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish (QoS 1) and wait until the broker has it."""
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10.0)

    def close(self) -> None:
        """Disconnect."""
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()


def wait_until(done: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``done()`` until it holds; fail after ``timeout`` (not a timing test)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or done}")
        time.sleep(0.02)
