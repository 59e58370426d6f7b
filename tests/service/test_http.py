"""The HTTP endpoint in-process, read with urllib: health codes, errors, a taken port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from edgecam.errors import ConfigError
from edgecam.service.http import HttpEndpoint


class View:
    """A service view whose answers the test sets."""

    def __init__(self) -> None:
        self.healthy = (True, "ok")

    def health(self) -> tuple[bool, str]:
        """As set."""
        return self.healthy

    def camera_status(self) -> dict[str, str]:
        """One running camera, one reconnecting."""
        return {"a": "running", "b": "reconnecting"}

    def latest_jpeg(self, camera: str) -> bytes | None:
        """Camera ``a`` has no frame yet, ``boom`` fails, others are unknown."""
        if camera == "a":
            return None
        if camera == "boom":
            raise RuntimeError("broken")
        raise KeyError(camera)


@pytest.fixture
def served() -> Iterator[tuple[View, str]]:
    view, registry = View(), CollectorRegistry()
    Counter("edgecam_test", "a test counter", registry=registry).inc(3)
    endpoint = HttpEndpoint(("127.0.0.1", 0), view, registry)
    endpoint.start()
    yield view, f"http://127.0.0.1:{endpoint.port}"
    endpoint.close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_health_codes_and_reason(served: tuple[View, str]) -> None:
    view, base = served
    cameras = {"a": "running", "b": "reconnecting"}
    code, body = _get(base + "/healthz")
    assert (code, json.loads(body)) == (200, {"status": "ok", "reason": "ok", "cameras": cameras})
    view.healthy = (False, "no frame analysed for 12s")
    code, body = _get(base + "/healthz")
    assert code == 503
    assert json.loads(body) == {
        "status": "unhealthy", "reason": "no frame analysed for 12s", "cameras": cameras
    }  # fmt: skip


def test_metrics_come_from_the_registry_passed_in(served: tuple[View, str]) -> None:
    code, body = _get(served[1] + "/metrics")
    assert code == 200 and b"edgecam_test_total 3.0" in body
    assert b"python_gc" not in body  # not the global registry


def test_errors_are_json(served: tuple[View, str]) -> None:
    base = served[1]
    assert _get(base + "/nope")[0] == 404
    assert _get(base + "/cameras/zz/latest.jpg")[0] == 404
    assert _get(base + "/cameras/a/latest.jpg")[0] == 503
    code, body = _get(base + "/cameras/boom/latest.jpg")
    assert code == 500 and json.loads(body) == {"error": "internal error"}
    assert _get(base + "/healthz")[0] == 200  # still serving


def test_a_taken_port_is_a_clear_error(served: tuple[View, str]) -> None:
    port = int(served[1].rsplit(":", 1)[1])
    with pytest.raises(ConfigError, match=f"http.listen 127.0.0.1:{port}: cannot listen"):
        HttpEndpoint(("127.0.0.1", port), View(), CollectorRegistry())
