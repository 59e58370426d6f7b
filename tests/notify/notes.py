"""Building notifier configs, events and sinks for the notify tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgecam.event import Event, iso_utc, new_event_id
from edgecam.notify.config import NotifyConfig
from edgecam.notify.sink import NotifySink
from edgecam.rules.config import PresenceRuleConfig
from tests.helpers import DATA

JPEG = (DATA / "person.jpg").read_bytes()
"""A real JPEG, standing in for a drawn snapshot."""
TOKEN = "tk_9f8e7d6c5b4a39281706"
"""A secret that must never show up anywhere but the URL file."""


def notify_config(tmp_path: Path, urls: dict[str, str], **settings: Any) -> NotifyConfig:
    """A ``notify:`` section with one target per URL (each in its own file)."""
    targets: dict[str, Any] = {}
    for name, url in urls.items():
        path = tmp_path / f"{name}.url"
        path.write_text(url + "\n")
        targets[name] = {"url_file": path, **settings.pop(f"{name}_settings", {})}
    return NotifyConfig.model_validate(
        {"targets": targets, "path": tmp_path / "queues", "retry_min": 0.2, **settings}
    )


def rule(targets: list[str], name: str = "porch_person", **extra: Any) -> PresenceRuleConfig:
    """A presence rule notifying ``targets``."""
    return PresenceRuleConfig.model_validate({"name": name, "notify": targets, **extra})


def event(wall: float, *, rule: str = "porch_person", **fields: Any) -> Event:
    """A ``start`` event of ``rule`` at wall-clock time ``wall``."""
    values: dict[str, Any] = {
        "id": new_event_id(), "type": "start", "rule": rule, "camera": "porch",
        "ts": iso_utc(wall), "frame_seq": 1, "label": "person", "score": 0.87, "zone": "walkway",
    }  # fmt: skip
    values.update(fields)
    return Event(**values)


def fire(sink: NotifySink, ev: Event, jpeg: bytes | None = JPEG) -> None:
    """What the pipeline does: the event to every sink, then (snapshot thread) its JPEG."""
    sink.emit(ev)
    if jpeg is not None:
        sink.snapshot(ev.camera, ev.rule, jpeg)
