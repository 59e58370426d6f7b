"""The ``http``, ``log`` and ``health`` config sections."""

from __future__ import annotations

import pytest

from edgecam.config.loader import parse_config
from edgecam.errors import ConfigError

CAMERA = "cameras: {c: {source: {type: image, paths: [x.jpg]}}}\n"


def test_defaults_bind_to_localhost() -> None:
    config = parse_config(CAMERA)
    assert config.http.enabled and config.http.address == ("127.0.0.1", 8080)
    assert config.log.level == "info" and config.health.stale_after == 10.0


def test_values_and_durations() -> None:
    config = parse_config(
        CAMERA + 'http: {listen: "[::1]:9100", enabled: false}\nlog: {level: debug}\n'
        "health: {stale_after: 2m, invoke_timeout: 500ms}\n"
    )
    assert config.http.address == ("::1", 9100) and not config.http.enabled
    assert config.health.stale_after == 120.0 and config.health.invoke_timeout == 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('http: {listen: "8080"}', "http.listen"),
        ('http: {listen: "127.0.0.1:99999"}', "http.listen"),
        ("log: {level: loud}", "log.level"),
        ("health: {stale_after: 0}", "health.stale_after"),
    ],
)
def test_bad_values_name_the_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(CAMERA + text + "\n")
    assert expected in str(err.value)
