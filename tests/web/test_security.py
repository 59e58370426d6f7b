"""Authentication off loopback, CSRF, host names, and secrets kept out of every answer."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from edgecam.config.http import HttpConfig
from edgecam.errors import ConfigError
from edgecam.web.editor import ConfigEditor
from edgecam.web.security import Policy
from tests.web.fakes import Client, serving


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"anyone:{password}".encode()).decode()


def test_off_loopback_needs_a_password_or_token_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not loopback"):
        HttpConfig(listen="0.0.0.0:8080")
    with pytest.raises(ValidationError, match="not loopback"):
        HttpConfig(listen="camera.lan:8080")
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    assert HttpConfig(listen="0.0.0.0:8080", password_file=secret).auth_configured
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "[::1]"):
        assert not HttpConfig(listen=f"{host}:8080").auth_configured


def test_a_missing_or_empty_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"http.token_file .*cannot read it"):
        Policy.from_config(HttpConfig(token_file=tmp_path / "missing"))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="the file is empty"):
        Policy.from_config(HttpConfig(password_file=tmp_path / "empty"))


def test_requests_without_credentials_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "token").write_text("tok-123\n")
    secrets = {"password_file": tmp_path / "pw", "token_file": tmp_path / "token"}
    with serving(None, None, **secrets) as (_view, server):
        for auth in (None, _basic("wrong"), "Bearer nope", "Basic !!!", _basic("tok-123")):
            code, body, headers = Client(server, auth).request("GET", "/api/cameras")
            assert code == 401 and json.loads(body)["error"], auth
            assert headers["www-authenticate"].startswith("Basic")
            assert Client(server, auth).request("GET", "/")[0] == 401
        assert Client(server, _basic("s3cret")).request("GET", "/api/cameras")[0] == 200
        assert Client(server, "Bearer tok-123").request("GET", "/metrics")[0] == 200
        assert Client(server).request("GET", "/healthz")[0] == 200  # monitors need no secret
    assert not any(
        "s3cret" in r.getMessage() or "tok-123" in r.getMessage() for r in caplog.records
    )


def test_state_changing_requests_need_the_csrf_token_and_same_origin() -> None:
    with serving() as (_view, server):
        api = Client(server)
        path = "/api/config/validate"
        code, body, _ = api.request("POST", path, b"{}", csrf=False)
        assert code == 403 and b"X-CSRF-Token" in body
        code, _, _ = api.request("POST", path, b"{}", headers={"X-CSRF-Token": "guess"})
        assert code == 403
        evil = {"Origin": "http://evil.example"}
        assert api.request("POST", path, b"{}", headers=evil)[0] == 403
        assert api.request("POST", path, b"{}")[0] == 409  # past the guard: no config file


def test_the_origin_must_match_scheme_host_and_port() -> None:
    with serving() as (_view, server):
        api = Client(server)
        path = "/api/config/validate"
        port = int(server.url.rstrip("/").rsplit(":", 1)[1])
        own = f"http://127.0.0.1:{port}"
        assert api.request("POST", path, b"{}", headers={"Origin": own})[0] == 409
        for other in (
            f"http://127.0.0.1:{port + 1}",  # another port on the same host
            f"https://127.0.0.1:{port}",  # another scheme
            f"http://localhost:{port}",  # another host name
            "http://127.0.0.1",  # the default port, 80
            "null",
        ):
            code, body, _ = api.request("POST", path, b"{}", headers={"Origin": other})
            assert code == 403 and b"cross-origin" in body, other


def test_loopback_servers_refuse_other_host_names() -> None:
    # DNS rebinding: a page from evil.example resolved to 127.0.0.1 sends its own Host.
    with serving() as (_view, server):
        code, body, _ = Client(server).request(
            "GET", "/api/session", headers={"Host": "evil.example"}
        )
        assert code == 421 and b"localhost" in body
        assert Client(server).request("GET", "/healthz", headers={"Host": "localhost:1"})[0] == 200


SECRET_CONFIG = """\
# my camera
cameras:
  porch:
    source: {type: opencv, url: "rtsp://admin:hunter2@10.0.0.5/stream"}  # the porch camera
mqtt:
  host: broker.lan
  username: edgecam
  password_file: /etc/edgecam/mqtt-password
  tls: {ca_file: /etc/ca.pem, keyfile: /etc/edgecam/key.pem, certfile: /etc/edgecam/cert.pem}
http: {listen: "0.0.0.0:8080", token_file: /etc/edgecam/token}
"""


def test_the_config_shown_has_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "edgecam.yaml"
    path.write_text(SECRET_CONFIG)
    with serving(extra={"editor": ConfigEditor(path, True, lambda: True)}) as (_view, server):
        code, body = Client(server).json("GET", "/api/config")
    assert code == 200
    text = body["yaml"]
    for secret in ("hunter2", "admin:", "mqtt-password", "key.pem", "/etc/edgecam/token"):
        assert secret not in text, secret
    assert "# the porch camera" in text and "# my camera" in text  # comments kept
    assert "rtsp://<redacted>@10.0.0.5/stream" in text and "ca.pem" in text


def test_a_whole_file_sent_back_keeps_its_redacted_secrets(tmp_path: Path) -> None:
    path = tmp_path / "edgecam.yaml"
    path.write_text(SECRET_CONFIG)
    editor = ConfigEditor(path, True, lambda: True)
    edited = editor.with_text(editor.shown().replace("broker.lan", "broker2.lan"))
    assert edited == SECRET_CONFIG.replace("broker.lan", "broker2.lan")
