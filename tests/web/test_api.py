"""The JSON API over HTTP: cameras, rules, events, sessions, and bad input of every kind."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam.event import Event
from edgecam.web.recent import RecentEvents
from tests.web.fakes import Client, FakeView, serving


@pytest.fixture
def client() -> Iterator[tuple[Client, RecentEvents]]:
    recent = RecentEvents()
    with serving(extra={"recent": recent}) as (_view, server):
        yield Client(server), recent


def test_cameras_list_areas_size_and_urls(client: tuple[Client, RecentEvents]) -> None:
    code, body = client[0].json("GET", "/api/cameras")
    assert code == 200
    cams = {c["name"]: c for c in body["cameras"]}
    assert set(cams) == {"a", "b", "c", "boom"}
    c = cams["c"]
    assert c["size"] == [160, 120] and c["fps"] == 5.0
    assert c["zones"] == {"door": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
    assert c["lines"] == {"gate": [[0.5, 0.0], [0.5, 1.0]]}
    assert c["masks"] == [[[0.8, 0.8], [1.0, 0.8], [1.0, 1.0]]]
    assert c["latest"] == "/cameras/c/latest.jpg" and c["stream"] == "/cameras/c/stream.mjpg"
    assert cams["a"]["size"] is None  # no frame yet
    assert client[0].json("GET", "/api/cameras/c")[1]["name"] == "c"


def test_rules_and_recent_events_with_snapshots(client: tuple[Client, RecentEvents]) -> None:
    api, recent = client
    assert api.json("GET", "/api/rules")[1] == {
        "rules": [{"name": "people", "kind": "presence", "camera": "c", "state": "OFF"}]
    }
    for n, kind in enumerate(("start", "end")):
        recent.emit(Event(f"e{n}", kind, "people", "c", "2026-01-01T00:00:00.000Z", n))  # type: ignore[arg-type]
    recent.snapshot("c", "people", b"\xff\xd8jpeg")
    code, body = api.json("GET", "/api/events?limit=5")
    assert code == 200 and [e["id"] for e in body["events"]] == ["e1", "e0"]
    assert "snapshot" not in body["events"][0]  # an end has none; the start keeps it
    assert body["events"][1]["snapshot"] == "/api/events/e0/snapshot.jpg"
    code, jpeg, headers = api.request("GET", "/api/events/e0/snapshot.jpg")
    assert (code, jpeg, headers["content-type"]) == (200, b"\xff\xd8jpeg", "image/jpeg")
    assert api.request("GET", "/api/events/e1/snapshot.jpg")[0] == 404
    assert api.request("GET", "/api/events?limit=0")[0] == 400


def test_session_gives_the_csrf_token(client: tuple[Client, RecentEvents]) -> None:
    code, body = client[0].json("GET", "/api/session")
    assert code == 200 and body["csrf"] == client[0].csrf and body["config_write"] is False
    assert body["timezone"] == "UTC" and body["events_kept"] is False


def test_the_live_view_draws_the_layers_asked_for(client: tuple[Client, RecentEvents]) -> None:
    import cv2
    import numpy as np

    api = client[0]

    def image(query: str) -> np.ndarray:
        code, body, _ = api.request("GET", f"/cameras/c/latest.jpg{query}")
        assert code == 200, body
        return np.asarray(cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR))

    bare, all_ = image("?overlay=0"), image("")
    zones = image("?layers=zones")
    assert np.abs(all_.astype(int) - bare).max() > 100  # something drawn by default
    # The zone's right edge (x = 0.5) is drawn with zones only; the person box is not.
    assert np.abs(zones[40, 80].astype(int) - bare[40, 80]).max() > 60
    assert np.abs(zones[50, 32].astype(int) - bare[50, 32]).max() < 40  # the box's left edge
    assert np.abs(all_[50, 32].astype(int) - bare[50, 32]).max() > 60
    code, body, _ = api.request("GET", "/cameras/c/latest.jpg?layers=boxes,colour")
    assert code == 400 and b"colour" in body


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/cameras/nope/latest.jpg", 404),
        ("GET", "/cameras/nope/stream.mjpg", 404),
        ("GET", "/api/cameras/nope", 404),
        ("GET", "/api/cameras/..%2F..%2Fetc%2Fpasswd", 404),
        ("GET", "/cameras/..%2F..%2Fetc/latest.jpg", 404),
        ("GET", "/static/../../pyproject.toml", 404),
        ("GET", "/static/..%2F__init__.py", 404),
        ("GET", "/static/%2e%2e/app.py", 404),
        ("GET", "/api/events/..%2Fx/snapshot.jpg", 404),
        ("DELETE", "/api/cameras", 405),
        ("POST", "/api/config/validate", 409),  # no editor: the demo
        ("POST", "/api/config/apply", 409),
    ],
)
def test_bad_requests_get_a_clear_json_4xx(
    client: tuple[Client, RecentEvents], method: str, path: str, code: int
) -> None:
    got, body, headers = client[0].request(method, path, b"{}" if method == "POST" else None)
    assert got == code, body
    assert headers["content-type"] == "application/json" and json.loads(body)["error"]
    assert b"Traceback" not in body


def test_oversized_bodies_are_refused() -> None:
    with serving(extra={"editor": _editor_stub()}) as (_view, server):
        api = Client(server)
        # A raw socket: the answer comes before the body is sent (urllib would hit a closed pipe).
        with socket.create_connection(("127.0.0.1", server.port), 10) as sock:
            head = (
                "POST /api/config/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"X-CSRF-Token: {api.csrf}\r\nContent-Length: 2000000\r\n\r\n"
            )
            sock.sendall(head.encode() + b"x" * 1000)
            answer = b""
            while b"bytes" not in answer and (part := sock.recv(4096)):
                answer += part
        assert answer.startswith(b"HTTP/1.1 413") and b"over 1048576 bytes" in answer
        _chunked_too_large(api, server.port)


def _chunked_too_large(api: Client, port: int) -> None:
    # Chunked, so no Content-Length to refuse early: counted as it arrives.
    with socket.create_connection(("127.0.0.1", port), 10) as sock:
        head = (
            "POST /api/config/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-CSRF-Token: {api.csrf}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        chunk = b"x" * 65536
        try:
            for _ in range(20):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed
        assert sock.recv(100).startswith(b"HTTP/1.1 413")


def test_invalid_json_is_400_not_a_traceback() -> None:
    with serving(extra={"editor": _editor_stub()}) as (_view, server):
        api = Client(server)
        for raw in (
            b"{not json",
            b"\xff\xfe",
            b"[1, 2]",
            b'{"camera": 3}',
            b'{"camera": "c", "zones": [1]}',
        ):
            code, body, _ = api.request("POST", "/api/config/validate", raw)
            assert code == 400 and json.loads(body)["error"], raw


def _editor_stub() -> object:
    from pathlib import Path

    from edgecam.web.editor import ConfigEditor

    return ConfigEditor(Path("/nonexistent/edgecam.yaml"), False, lambda: True)


def test_a_view_that_fails_gives_500_json_and_serving_goes_on(
    client: tuple[Client, RecentEvents],
) -> None:
    code, body, _ = client[0].request("GET", "/cameras/boom/latest.jpg")
    assert code == 500 and json.loads(body) == {"error": "internal error"}
    assert client[0].request("GET", "/healthz")[0] == 200


def test_pages_and_static_files_are_served(client: tuple[Client, RecentEvents]) -> None:
    api = client[0]
    for path, kind in (
        ("/", "text/html"),
        ("/editor", "text/html"),
        ("/events", "text/html"),
        ("/static/events.js", "text/javascript"),
        ("/static/palette.css", "text/css"),
        ("/static/app.js", "text/javascript"),
    ):
        code, _, headers = api.request("GET", path)
        assert code == 200 and headers["content-type"].startswith(kind), path
        assert "default-src 'self'" in headers["content-security-policy"]
    assert b"https://" not in api.request("GET", "/")[1]  # nothing from a CDN


def test_fake_view_is_a_service_view() -> None:
    from edgecam.web.view import ServiceView

    view: ServiceView = FakeView()
    assert view.config().cameras["c"].zones


def test_the_system_time_zone_is_found_by_its_name(tmp_path: Path) -> None:
    from edgecam.web.clock import system_zone_name

    (tmp_path / "etc").mkdir()
    assert system_zone_name({}, tmp_path) == "UTC"  # nothing says: UTC
    (tmp_path / "etc" / "localtime").symlink_to("/usr/share/zoneinfo/Europe/Berlin")
    assert system_zone_name({}, tmp_path) == "Europe/Berlin"
    (tmp_path / "etc" / "timezone").write_text("America/New_York\n")
    assert system_zone_name({}, tmp_path) == "America/New_York"
    assert system_zone_name({"TZ": ":Asia/Tokyo"}, tmp_path) == "Asia/Tokyo"
    assert system_zone_name({"TZ": "Not/AZone"}, tmp_path) == "America/New_York"
