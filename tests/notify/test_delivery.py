"""Delivery to real receivers on 127.0.0.1 through Apprise: webhook, ntfy, e-mail, outages."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from edgecam.notify.metrics import NotifyCollector
from edgecam.notify.sink import NotifySink
from tests.notify.notes import JPEG, TOKEN, event, fire, notify_config, rule
from tests.notify.receivers import HttpReceiver, SmtpReceiver, wait_until


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    """A JSON webhook receiver."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


def _json_url(receiver: HttpReceiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"


def test_webhook_gets_the_event_with_its_jpeg_within_2s(
    tmp_path: Path, webhook: HttpReceiver
) -> None:
    config = notify_config(tmp_path, {"hook": _json_url(webhook)}, timezone="Europe/Berlin")
    sink = NotifySink(config, [rule(["hook"])], device="porch-pi")
    sink.start()
    try:
        clip = {
            "id": "c1",
            "path": "/x.mp4",
            "url": "http://porch-pi.local:8080/api/events/e1/clip.mp4",
        }
        # 2026-06-01 10:00:00 UTC is 12:00 in Berlin (summer time).
        fired = time.monotonic()
        fire(sink, event(1_780_308_000.0, clip=clip))
        (got,) = webhook.wait_for(1, timeout=2.0)
        assert time.monotonic() - fired < 2.0
    finally:
        sink.close()
    payload = got.json()
    assert got.path == f"/hook/{TOKEN}"
    assert payload["title"] == "person on porch"
    assert payload["message"] == (
        "porch_person: person in walkway at 12:00:00\nhttp://porch-pi.local:8080/api/events/e1/clip.mp4"
    )
    (attachment,) = payload["attachments"]
    assert attachment["mimetype"] == "image/jpeg"
    assert base64.b64decode(attachment["base64"]) == JPEG


def test_ntfy_receiver_gets_title_body_and_attachment(tmp_path: Path) -> None:
    ntfy = HttpReceiver().start()
    config = notify_config(
        tmp_path, {"phone": f"ntfy://127.0.0.1:{ntfy.port}/{TOKEN}"},
        phone_settings={"title": "{label} at the {zone}", "body": "{camera}: {rule} ({score})"},
    )  # fmt: skip
    sink = NotifySink(config, [rule(["phone"])])
    sink.start()
    try:
        fire(sink, event(time.time()))
        (got,) = ntfy.wait_for(1, timeout=5.0)
    finally:
        sink.close()
        ntfy.stop()
    # ntfy's "publish as PUT/POST with the file as body" form: title and message as parameters.
    assert got.path == f"/{TOKEN}"
    assert got.query["title"] == ["person at the walkway"]
    assert got.query["message"] == ["porch: porch_person (87%)"]
    assert got.query["filename"][0].endswith(".jpg")
    assert got.body == JPEG


def test_email_through_smtp_with_the_image_attached(tmp_path: Path) -> None:
    smtp = SmtpReceiver().start()
    url = f"mailto://127.0.0.1:{smtp.port}?from=cam@example.com&to=me@example.com"
    config = notify_config(tmp_path, {"mail": url})
    sink = NotifySink(config, [rule(["mail"])])
    sink.start()
    try:
        fire(sink, event(time.time()))
        (message,) = wait_until(lambda: len(smtp.messages) >= 1, 10.0, lambda: smtp.messages)
    finally:
        sink.close()
        smtp.stop()
    assert message["Subject"] == "person on porch"
    assert "me@example.com" in message["To"]
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "image/jpeg"]
    assert len(parts) == 1
    assert parts[0].get_content() == JPEG


def _outage(tmp_path: Path, webhook: HttpReceiver, down_for: float, count: int) -> None:
    """Receiver down for ``down_for`` s while ``count`` events fire: all arrive after, in order."""
    webhook.stop()
    config = notify_config(
        tmp_path,
        {"hook": _json_url(webhook)},
        retry_max=1.0,
        snapshot_wait=0.2,
        hook_settings={"body": "{id}"},
    )
    sink = NotifySink(config, [rule(["hook"])])
    sink.start()
    registry = CollectorRegistry()
    registry.register(NotifyCollector(lambda: [sink]))
    try:
        start = time.time()
        fired = [event(start + n) for n in range(count)]
        for n, ev in enumerate(fired):
            fire(sink, ev, JPEG if n % 2 == 0 else None)
            time.sleep(down_for / count)
        assert wait_until(lambda: sink.figures()["hook"]["failed"] >= 2, 5.0, sink.figures)
        assert sink.figures()["hook"]["pending"] == count
        webhook.start()
        webhook.wait_for(count, timeout=10.0)
        time.sleep(0.5)  # nothing more may come
    finally:
        sink.close()
    messages = [r.json()["message"] for r in webhook.requests]
    assert messages == [ev.id for ev in fired], "all, in order, none twice"
    attached = [bool(r.json()["attachments"]) for r in webhook.requests]
    assert attached == [n % 2 == 0 for n in range(count)], "snapshots kept while down"
    assert sink.figures()["hook"]["pending"] == 0
    text = generate_latest(registry).decode()
    assert f'edgecam_notify_sent_total{{target="hook"}} {count}.0' in text
    assert 'edgecam_notify_pending{target="hook"} 0.0' in text


@pytest.mark.slow  # about 35 s: the 30 s outage, kept as it is
def test_receiver_down_30s_then_up_everything_arrives_in_order_once(
    tmp_path: Path, webhook: HttpReceiver
) -> None:
    _outage(tmp_path, webhook, down_for=30.0, count=6)


def test_receiver_down_3s_then_up_everything_arrives_in_order_once(
    tmp_path: Path, webhook: HttpReceiver
) -> None:
    _outage(tmp_path, webhook, down_for=3.0, count=6)


def test_a_target_that_hangs_does_not_hold_up_another(
    tmp_path: Path, webhook: HttpReceiver
) -> None:
    import socket

    hole = socket.create_server(("127.0.0.1", 0))  # connects (the backlog), never answers
    port = hole.getsockname()[1]
    urls = {"stuck": f"json://127.0.0.1:{port}/h?rto=20", "hook": _json_url(webhook)}
    config = notify_config(tmp_path, urls, retry_max=1.0)
    sink = NotifySink(config, [rule(["stuck", "hook"], snapshot=False)])
    sink.start()
    try:
        started = time.monotonic()
        for n in range(3):
            fire(sink, event(time.time() + n), jpeg=None)
        webhook.wait_for(3, timeout=2.0)
        assert time.monotonic() - started < 2.0
        assert sink.figures()["stuck"]["pending"] == 3
    finally:
        hole.close()  # the stuck send ends with a reset
        sink.close()


def test_what_comes_before_start_goes_out_after_it(tmp_path: Path, webhook: HttpReceiver) -> None:
    # A reload swaps the new notifier in between two frames and starts it a moment later.
    config = notify_config(tmp_path, {"hook": _json_url(webhook)})
    sink = NotifySink(config, [rule(["hook"])])
    try:
        fire(sink, event(time.time()))
        sink.start()
        (got,) = webhook.wait_for(1, timeout=2.0)
    finally:
        sink.close()
    (attachment,) = got.json()["attachments"]
    assert base64.b64decode(attachment["base64"]) == JPEG
