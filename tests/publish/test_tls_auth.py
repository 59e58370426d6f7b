"""TLS with a CA made in the test, password auth, and a wrong password that is retried."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.helpers import DATA, run_edgecam
from tests.publish.broker import Broker, Subscriber, wait_until
from tests.publish.conftest import PASSWORD, READER, READER_PASSWORD, USER
from tests.publish.sinks import assert_all_in_order, event, make_sink, received_events, sink_config


def _secure_config(broker: Broker, tmp_path: Path, password: str) -> dict[str, object]:
    assert broker.certs is not None
    secret = tmp_path / "mqtt-password"
    secret.write_text(password + "\n")
    return {
        "username": USER,
        "password_file": secret,
        "tls": {"ca_file": broker.certs.ca},
    }


def _subscriber(broker: Broker) -> Subscriber:
    return Subscriber(broker, ["#"], username=READER, password=READER_PASSWORD).start()


def test_tls_and_password(
    secure_broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sub = _subscriber(secure_broker)
    fields = _secure_config(secure_broker, tmp_path, PASSWORD)
    with caplog.at_level(logging.DEBUG):
        sink = make_sink(sink_config(secure_broker, tmp_path / "o.sqlite", **fields))
        sent = [event(i) for i in range(5)]
        for item in sent:
            sink.emit(item)
        messages = sub.wait_for(lambda ms: len(received_events(ms)) >= 5, what="5 events")
        sink.close()
    sub.close()
    assert_all_in_order(sent, received_events(messages))
    assert "TLS on" in caplog.text
    assert PASSWORD not in caplog.text


def test_wrong_password_is_reported_retried_and_loses_nothing(
    secure_broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sub = _subscriber(secure_broker)
    wrong = "not-the-password"
    fields = _secure_config(secure_broker, tmp_path, wrong)
    sent = [event(i) for i in range(5)]
    with caplog.at_level(logging.DEBUG):
        sink = make_sink(sink_config(secure_broker, tmp_path / "o.sqlite", **fields))
        for item in sent:
            sink.emit(item)
        wait_until(lambda: "refused the connection" in caplog.text, what="the error")
        assert sink.outbox.depth == 5
        # The admin fixes the broker's side; the sink's next attempt gets in.
        secure_broker.set_users({USER: wrong, READER: READER_PASSWORD})
        secure_broker.reload()
        messages = sub.wait_for(lambda ms: len(received_events(ms)) >= 5, what="5 events")
        sink.close()
    sub.close()
    assert_all_in_order(sent, received_events(messages))
    refusals = [r for r in caplog.records if "refused the connection" in r.getMessage()]
    assert refusals[0].levelno == logging.ERROR
    assert "password_file" in refusals[0].getMessage()
    assert wrong not in caplog.text


def test_check_config_never_shows_the_password(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2-very-secret\n")
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        "cameras: {c: {source: {type: file, path: clip.avi}}}\n"
        f"mqtt: {{username: u, password_file: {secret}, tls: {{insecure: true}}}}\n"
    )
    (tmp_path / "clip.avi").symlink_to(DATA / "vtest.avi")  # check-config decodes a frame
    result = run_edgecam(["check-config", str(config)])
    assert result.code == 0, result.err
    assert "hunter2" not in result.out + result.err
