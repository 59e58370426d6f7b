"""The HTTP endpoint in-process, read with urllib: health codes, errors, a taken port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from edgecam.config.http import HttpConfig
from edgecam.errors import ConfigError
from edgecam.web.server import WebServer
from tests.web.fakes import FakeView, serving


@pytest.fixture
def served() -> Iterator[tuple[FakeView, str]]:
    with serving() as (view, server):
        yield view, server.url.rstrip("/")


def get(url: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers of one request (errors included)."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_health_codes_and_reason(served: tuple[FakeView, str]) -> None:
    view, base = served
    cameras, detector = view.camera_status(), view.detector()
    code, body, _ = get(base + "/healthz")
    assert (code, json.loads(body)) == (
        200, {"status": "ok", "reason": "ok", "detector": detector, "cameras": cameras}
    )  # fmt: skip
    view.healthy = (False, "no frame analysed for 12s")
    code, body, _ = get(base + "/healthz")
    assert code == 503
    assert json.loads(body) == {
        "status": "unhealthy", "reason": "no frame analysed for 12s", "detector": detector,
        "cameras": cameras,
    }  # fmt: skip


def test_metrics_come_from_the_registry_passed_in(served: tuple[FakeView, str]) -> None:
    code, body, _ = get(served[1] + "/metrics")
    assert code == 200 and b"edgecam_test_total 3.0" in body
    assert b"python_gc" not in body  # not the global registry


def test_latest_jpeg_has_the_frame(served: tuple[FakeView, str]) -> None:
    code, body, headers = get(served[1] + "/cameras/c/latest.jpg")
    assert code == 200 and headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    raw = get(served[1] + "/cameras/c/latest.jpg?overlay=0")[1]
    assert raw[:2] == b"\xff\xd8" and raw != body  # nothing drawn on it


def test_errors_are_json(served: tuple[FakeView, str]) -> None:
    base = served[1]
    assert get(base + "/nope")[0] == 404
    assert get(base + "/cameras/zz/latest.jpg")[0] == 404
    assert get(base + "/cameras/a/latest.jpg")[0] == 503
    code, body, _ = get(base + "/cameras/boom/latest.jpg")
    assert code == 500 and json.loads(body) == {"error": "internal error"}
    code, body, _ = get(base + "/healthz", method="POST")
    assert code in (403, 405) and "error" in json.loads(body)
    assert get(base + "/healthz")[0] == 200  # still serving


def test_head_works_where_get_does_and_no_version_banner(served: tuple[FakeView, str]) -> None:
    base = served[1]
    for path in ("/healthz", "/metrics", "/cameras/c/latest.jpg", "/cameras/c/stream.mjpg"):
        code, body, headers = get(base + path, method="HEAD")
        assert (code, body) == (200, b""), path
        assert "server" not in {k.lower() for k in headers}, headers


def test_a_taken_port_is_a_clear_error(served: tuple[FakeView, str]) -> None:
    port = int(served[1].rsplit(":", 1)[1])
    config = HttpConfig(listen=f"127.0.0.1:{port}")
    with pytest.raises(ConfigError, match=f"http.listen 127.0.0.1:{port}: cannot listen"):
        WebServer(config, FakeView(), __import__("prometheus_client").CollectorRegistry())
