"""Fixtures: a real Mosquitto on a free loopback port (plain, or TLS with passwords)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.publish.broker import Broker, Certs, Subscriber, make_certs

USER = "edgecam"
PASSWORD = "s3cret-Pa55word"
READER = "reader"
READER_PASSWORD = "reader-Pa55word"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A running anonymous broker; the test may stop and start it (same port)."""
    server = Broker(tmp_path / "broker")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA and a broker certificate for 127.0.0.1, made once per session."""
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def secure_broker(tmp_path: Path, certs: Certs) -> Iterator[Broker]:
    """A running broker that speaks only TLS and wants passwords (``edgecam``, ``reader``)."""
    server = Broker(
        tmp_path / "broker", certs=certs, users={USER: PASSWORD, READER: READER_PASSWORD}
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def subscriber(broker: Broker) -> Iterator[Subscriber]:
    """A subscriber to everything on ``broker``, with a persistent session."""
    sub = Subscriber(broker, ["#"]).start()
    yield sub
    sub.close()
