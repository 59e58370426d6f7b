"""Broker problems are named: a silent broker, an untrusted certificate, a host name mismatch.

As measured before: a broker that accepted TCP but never answered CONNECT was never reported
(a retry came after the keepalive, 61 s), and every TLS failure read "cannot reach the broker
(down, unreachable or TLS refused)".
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.publish.broker import Broker, Certs, make_certs, wait_until
from tests.publish.sinks import make_sink, sink_config


class SilentServer:
    """A TCP server on loopback that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self.sock.close()
        self._thread.join(5)
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


class _FakeBroker:
    def __init__(self, port: int) -> None:
        self.port = port


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_silent_broker_is_named_within_the_timeout_then_retried(
    silent: SilentServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = sink_config(_FakeBroker(silent.port), tmp_path / "o.sqlite", connect_timeout="2s")  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="edgecam.publish.mqtt"):
        start = time.monotonic()
        sink = make_sink(config)
        wait_until(lambda: bool(_warnings(caplog)), 30.0, "a warning")
        took = time.monotonic() - start
        wait_until(lambda: len(silent.accepted) >= 2, 30.0, "a second attempt")
        # /healthz: degraded while the broker has not answered for over connect_timeout, and
        # it holds (no flapping between attempts); the connected gauge says 0.
        samples = []
        for _ in range(20):
            samples.append(sink.degraded())
            time.sleep(0.1)
        assert all(s and "has not answered for" in s[-1] for s in samples), samples
        assert sink.broker_state() == (f"127.0.0.1:{silent.port}", False)
        sink.close()
    first = _warnings(caplog)[0]
    assert first.startswith(
        f"MQTT: the broker at 127.0.0.1:{silent.port} accepted the connection but did not "
        "answer CONNECT within 2s"
    ), first
    assert 2.0 <= took < 15.0  # the timeout, not the 60 s keepalive


def _certs_for(directory: Path, ca: Certs, san: str) -> Certs:
    """A broker certificate signed by ``ca`` for ``san`` only."""
    directory.mkdir(parents=True)
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run(
        ["openssl", "req", *ec, "-subj", "/CN=other", "-keyout", str(key), "-out", str(csr)],
        check=True, capture_output=True,
    )  # fmt: skip
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName={san}\n")
    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca.ca), "-CAkey",
         str(ca.ca.with_name("ca.key")), "-CAcreateserial", "-days", "2", "-extfile", str(ext),
         "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    shutil.copy(ca.ca, directory / "ca.pem")
    return Certs(directory / "ca.pem", cert, key)


def _tls_failure(broker: Broker, tmp_path: Path, ca: Path, caplog: pytest.LogCaptureFixture) -> str:
    config = sink_config(broker, tmp_path / "o.sqlite", tls={"ca_file": ca})
    with caplog.at_level(logging.INFO, logger="edgecam.publish.mqtt"):
        sink = make_sink(config)
        wait_until(lambda: bool(_warnings(caplog)), 30.0, "a warning")
        sink.close()
    return _warnings(caplog)[0]


def test_tls_failures_say_what_failed(
    tmp_path: Path, certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    other_ca = make_certs(tmp_path / "other-ca")
    broker = Broker(tmp_path / "broker", certs=certs)
    broker.start()
    try:
        untrusted = _tls_failure(broker, tmp_path / "a", other_ca.ca, caplog)
    finally:
        broker.stop()
    assert "TLS certificate verify failed (" in untrusted
    assert f"127.0.0.1:{broker.port}" in untrusted and "mqtt.tls.ca_file" in untrusted

    caplog.clear()
    mismatched = _certs_for(tmp_path / "mismatch", certs, "DNS:broker.example")
    broker = Broker(tmp_path / "broker2", certs=mismatched)
    broker.start()
    try:
        message = _tls_failure(broker, tmp_path / "b", mismatched.ca, caplog)
    finally:
        broker.stop()
    assert "TLS hostname mismatch (IP address mismatch, certificate is not valid for " in message
    assert "mqtt.host" in message

    caplog.clear()
    plain = Broker(tmp_path / "plain")
    plain.start()
    try:
        message = _tls_failure(plain, tmp_path / "c", certs.ca, caplog)
    finally:
        plain.stop()
    assert "TLS handshake refused: the broker closed the connection (is mqtt.port" in message
