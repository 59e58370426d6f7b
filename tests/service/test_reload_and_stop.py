"""Sorting config changes for a reload, and the bounded flush of sinks on stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

import pytest

from edgecam.config.loader import parse_config
from edgecam.config.models import Config
from edgecam.event import Event
from edgecam.service.build import close_sinks
from edgecam.service.reload import RELOAD_TABLE, compare

BASE = (
    "cameras:\n"
    "  a: {source: {type: image, paths: [a.jpg]}}\n"
    "  b: {source: {type: image, paths: [b.jpg]}}\n"
    "rules: [{name: r, kind: presence, labels: [person]}]\n"
)


def test_compare_sorts_changes_into_applied_and_restart() -> None:
    old = parse_config(BASE)
    assert compare(old, parse_config(BASE)).applied == ()
    new = parse_config(
        BASE.replace("labels: [person]", "labels: [dog]").replace("b.jpg", "c.jpg")
        + "log: {level: debug}\nhttp: {listen: '127.0.0.1:9000'}\n"
    )
    changes = compare(old, new)
    assert changes.applied == ("cameras", "rules", "log")
    assert changes.need_restart == ("http",)
    assert changes.cameras == ("b",)  # a new source: b's capture restarts, a's runs on


def test_the_reload_table_covers_every_config_section() -> None:
    assert set(RELOAD_TABLE) == set(Config.model_fields)
    for section, entry in RELOAD_TABLE.items():
        assert not (entry.restart and entry.rebuilds), section  # a restart rebuilds nothing now
        assert entry.why or not entry.restart, f"{section}: say why it needs a restart"


def test_events_and_clips_changes_wait_for_a_restart() -> None:
    old = parse_config(BASE)
    new = parse_config(BASE + "events: {path: /tmp/elsewhere}\nclips: {buffer_bytes: 200000}\n")
    changes = compare(old, new)
    assert changes.applied == () and changes.need_restart == ("events", "clips")
    assert changes.rebuild == frozenset()


def test_compare_names_the_parts_to_rebuild() -> None:
    old = parse_config(BASE)
    assert compare(old, parse_config(BASE + "device: {name: x}\n")).rebuild == {"sinks"}
    assert compare(old, parse_config(BASE + "model: {threshold: 0.6}\n")).rebuild == {"detector"}
    assert compare(old, parse_config(BASE + "log: {level: debug}\n")).rebuild == frozenset()


def test_compare_restarts_only_cameras_whose_capture_settings_changed() -> None:
    old = parse_config(BASE)
    new = parse_config(
        "cameras:\n"
        "  a: {source: {type: image, paths: [a.jpg]}, fps: 2,"
        " zones: {z: {polygon: [[0, 0], [1, 0], [1, 1]]}}}\n"
        "  b: {source: {type: image, paths: [b.jpg]}, motion: {enabled: true}}\n"
        "  c: {source: {type: image, paths: [c.jpg]}}\n"
        "rules: [{name: r, kind: presence, labels: [person]}]\n"
    )
    changes = compare(old, new)
    # a: fps and zones apply in place; b: a new motion gate; c: new.
    assert changes.cameras == ("b", "c") and changes.need_restart == ()
    assert compare(new, old).cameras == ("b", "c")  # and c removed again


class SlowSink:
    """A sink whose flush takes ``delay`` seconds (a broker that does not answer)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.closed = threading.Event()

    def emit(self, event: Event) -> None:
        """Not used."""

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Not used."""

    def stats(self, stats: Mapping[str, object]) -> None:
        """Not used."""

    def close(self) -> None:
        """Flush for ``delay`` seconds."""
        threading.Event().wait(self.delay)
        self.closed.set()


def test_stop_waits_for_flushing_sinks_but_not_forever(caplog: pytest.LogCaptureFixture) -> None:
    quick, stuck = SlowSink(0.0), SlowSink(30.0)
    with caplog.at_level(logging.WARNING):
        close_sinks([quick, stuck], 0.3)
    assert quick.closed.is_set() and not stuck.closed.is_set()
    assert "SlowSink did not finish flushing within 0.3s" in caplog.text
    assert "stay in the outbox for the next start" in caplog.text
