"""What a notification says: the event's fields, the rendered title and body, the stored form.

Pure functions over an :class:`~edgecam.event.Event`; the queue stores a :class:`Notification`
as JSON (the target's *name*, never its URL, is the queue's topic).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from edgecam.event import Event
from edgecam.rules.schedule import local_time

_SPACES = re.compile(r"[ \t]{2,}")


def event_wall(event: Event) -> float:
    """The event's frame wall-clock time (``ts``) as epoch seconds."""
    return datetime.fromisoformat(event.ts.replace("Z", "+00:00")).timestamp()


def event_fields(event: Event, tz: tzinfo | None, *, device: str = "") -> dict[str, str]:
    """The template fields of ``event``: each a string, empty where it does not apply."""
    local = local_time(event_wall(event), tz)
    sub_label = getattr(event, "sub_label", None)  # set by a classifier stage, where there is one
    label = event.label or ""
    what = f"{label} ({sub_label})" if sub_label and label else (sub_label or label)
    if event.zone:
        where = f"in {event.zone}"
    elif event.line:
        where = f"crossing {event.line}" + (f" ({event.direction})" if event.direction else "")
    else:
        where = ""
    clip = event.clip or {}
    clip_url = str(clip.get("url") or "")
    return {
        "what": what,
        "where": where,
        "label": label,
        "sub_label": str(sub_label or ""),
        "score": "" if event.score is None else f"{event.score:.0%}",
        "zone": event.zone or "",
        "line": event.line or "",
        "direction": event.direction or "",
        "camera": event.camera,
        "rule": event.rule,
        "type": event.type,
        "count": "" if event.count is None else str(event.count),
        "time": local.strftime("%H:%M:%S"),
        "date": local.strftime("%Y-%m-%d"),
        "clip_url": clip_url,
        "device": device,
        "id": event.id,
    }


def render(template: str, fields: dict[str, str]) -> str:
    """``template`` filled from ``fields``; runs of spaces closed up, blank lines dropped."""
    text = template.format_map(fields)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one target, as stored in its queue until the target took it."""

    event_id: str
    title: str
    body: str
    snapshot: bool
    """True when a snapshot is expected (the rule draws one and the target attaches it)."""
    created: float
    """Wall-clock time it was queued (epoch seconds): ``max_age`` counts from here."""

    def payload(self) -> bytes:
        """The stored form (JSON)."""
        return json.dumps(
            {"title": self.title, "body": self.body, "snapshot": self.snapshot},
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_payload(cls, event_id: str, payload: bytes, created: float) -> Notification:
        """Read back a stored notification (ValueError if it is not one)."""
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return cls(
            event_id, str(data.get("title", "")), str(data.get("body", "")),
            bool(data.get("snapshot", False)), created,
        )  # fmt: skip
