"""Events: what rules emit, what reaches MQTT and ``--events`` (docs/architecture.md, MQTT)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from edgecam.types import Box

EventType = Literal["start", "update", "end", "count"]


def new_event_id() -> str:
    """A unique event id; it is stored with the event, so redeliveries keep it."""
    return uuid.uuid4().hex


def iso_utc(wall: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds, e.g. ``2026-11-21T10:00:00.000Z``."""
    stamp = datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Event:
    """One event; optional fields are left out of the JSON when they do not apply."""

    id: str
    type: EventType
    rule: str
    camera: str
    ts: str
    frame_seq: int
    label: str | None = None
    score: float | None = None
    box: Box | None = None
    track_id: int | None = None
    zone: str | None = None
    line: str | None = None
    direction: Literal["in", "out"] | None = None
    count: int | None = None
    totals: dict[str, int] | None = None
    """Count events of line crossings: the count per counted direction and ``total``."""
    duration: float | None = None
    """End events: seconds since the start event."""
    dwell: float | None = None
    """Dwell events: seconds the object has spent in the zone."""
    max_score: float | None = None
    """End events: the highest score of the objects over the whole event."""
    zones_visited: tuple[str, ...] | None = None
    """End events: every zone the event's objects were in, sorted."""
    start_id: str | None = None
    """End events: the ``id`` of the start event they end."""
    stationary: bool | None = None
    """True when the event's object is stationary (left out otherwise)."""
    sub_label: str | None = None
    """What a classifier says the object is (``Black-capped Chickadee``), when it is sure."""
    sub_score: float | None = None
    """The sub label's probability, averaged over the track's classified crops."""
    sub_top: tuple[tuple[str, float], ...] | None = None
    """The classifier's three best classes with their averaged probabilities."""
    scientific_name: str | None = None
    """The sub label's scientific name (``Poecile atricapillus``), where the classifier has one."""
    clip: dict[str, object] | None = None
    """``{id, path, url}`` of the event's clip (on ``end`` and ``count`` events of rules with
    ``clip:``); the file is there once the post-roll has passed."""

    def to_json(self) -> dict[str, object]:
        """The event as a JSON-ready dict, fields in contract order, ``None`` left out."""
        out: dict[str, object] = {"id": self.id, "type": self.type, "rule": self.rule}
        out["camera"] = self.camera
        optional: dict[str, object] = {
            "label": self.label,
            "score": None if self.score is None else round(self.score, 4),
            "box": None if self.box is None else [round(v, 4) for v in self.box],
            "track_id": self.track_id,
            "zone": self.zone,
            "line": self.line,
            "direction": self.direction,
            "count": self.count,
            "totals": self.totals,
            "duration": None if self.duration is None else round(self.duration, 3),
            "dwell": None if self.dwell is None else round(self.dwell, 3),
            "max_score": None if self.max_score is None else round(self.max_score, 4),
            "zones_visited": None if self.zones_visited is None else list(self.zones_visited),
            "start_id": self.start_id,
            "stationary": self.stationary,
            "sub_label": self.sub_label,
            "sub_score": None if self.sub_score is None else round(self.sub_score, 4),
            "sub_top": None if self.sub_top is None else [list(pair) for pair in self.sub_top],
            "scientific_name": self.scientific_name,
            "clip": self.clip,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out["ts"] = self.ts
        out["frame_seq"] = self.frame_seq
        return out
