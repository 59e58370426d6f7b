"""The events API, independent of the web framework: queries, JSON bodies and byte ranges.

``GET /api/events`` (filters: camera, rule, label, sub_label, zone, day, since, until, reviewed;
paged by limit and offset), ``/api/events/<id>``,
``/api/events/<id>/snapshot.jpg`` and ``/api/events/<id>/clip.mp4`` (served with HTTP range
requests by the web server, so browsers can seek). docs/events.md documents the JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

from edgecam.event import iso_utc
from edgecam.events.store import EventFilter, EventStore, StoredEvent

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ApiError(Exception):
    """A request the API cannot answer: ``status`` and a message for the JSON body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


PARAMS = ("camera", "rule", "label", "sub_label", "zone", "day", "since", "until", "reviewed",
          "limit", "offset")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Query:
    """The filters and the page of ``GET /api/events``."""

    camera: str | None = None
    rule: str | None = None
    since: str | None = None
    limit: int = DEFAULT_LIMIT
    where: EventFilter = field(default_factory=EventFilter)
    offset: int = 0


def parse_query(params: Mapping[str, str], tz: tzinfo = UTC) -> Query:
    """Validate the query string; :class:`ApiError` (400) naming the bad parameter.

    ``day=YYYY-MM-DD`` is that day in ``tz`` (the device's time zone), midnight to midnight.
    """
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ApiError(400, f"unknown parameter {unknown[0]!r}; use {', '.join(PARAMS)}")
    limit = params.get("limit", str(DEFAULT_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    offset = params.get("offset", "0")
    if not offset.isdigit():
        raise ApiError(400, "offset must be a whole number (0 for the newest)")
    since, until = _since(params.get("since")), _since(params.get("until"), "until")
    if params.get("day"):
        first, after = day_range(params["day"], tz)
        since, until = max(since or first, first), min(until or after, after)
    reviewed = params.get("reviewed")
    if reviewed not in (None, "", "true", "false"):
        raise ApiError(400, "reviewed must be true or false")
    text = {k: params.get(k) or None for k in ("camera", "rule", "label", "sub_label", "zone")}
    where = EventFilter(
        **text, since=since, until=until, reviewed=None if not reviewed else reviewed == "true"
    )
    return Query(text["camera"], text["rule"], since, int(limit), where, int(offset))


def day_range(day: str, tz: tzinfo) -> tuple[str, str]:
    """The first instant of ``day`` in ``tz`` and of the day after, as stored (ISO 8601 UTC)."""
    try:
        first = date.fromisoformat(day)
    except ValueError:
        raise ApiError(400, "day must be a date such as 2026-12-06") from None
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    after = datetime.combine(first + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return iso_utc(start.timestamp()), iso_utc(after.timestamp())


def timeline(starts: list[str], tz: tzinfo, days: int = 31) -> list[dict[str, object]]:
    """Per local day (newest first, at most ``days``): the count and the count in each hour."""
    found: dict[str, list[int]] = {}
    for stamp in starts:
        local = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(tz)
        found.setdefault(local.date().isoformat(), [0] * 24)[local.hour] += 1
    newest = sorted(found, reverse=True)[:days]
    return [{"day": d, "count": sum(found[d]), "hours": found[d]} for d in newest]


def _since(value: str | None, name: str = "since") -> str | None:
    """A time as the stored form (ISO 8601 UTC, milliseconds) from ISO 8601 or epoch seconds."""
    if not value:
        return None
    try:
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return iso_utc(float(value))
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        stamp = None
    if stamp is None:
        raise ApiError(400, f"{name} must be ISO 8601 (2026-12-04T18:00:00Z) or epoch seconds")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return iso_utc(stamp.timestamp())


def event_json(event: StoredEvent, base: str = "") -> dict[str, object]:
    """One occurrence as the API shows it (docs/events.md)."""
    body = {k: v for k, v in event.event.items() if k not in ("id", "type", "ts", "clip")}
    out: dict[str, object] = {"id": event.id, "type": event.kind, **body}
    out["ts"] = event.start  # as on the event itself (and in the page's recent events)
    out["start"] = event.start
    out["end"] = event.end
    out["ongoing"] = event.kind == "start" and event.end is None
    out["reviewed"] = event.reviewed
    if event.sub_label is not None:
        out["sub_label"] = event.sub_label  # the end's vote when the start had none yet
    if event.end_event is not None:
        out["end_event"] = {k: v for k, v in event.end_event.items() if k != "clip"}
    snapshot = event.snapshot is not None and event.snapshot.is_file()
    out["snapshot"] = f"{base}/api/events/{event.id}/snapshot.jpg" if snapshot else None
    out["clip"] = _clip_json(event, base)
    return out


def _clip_json(event: StoredEvent, base: str) -> dict[str, object] | None:
    if event.clip is None and event.clip_info is None:
        return None
    info = dict(event.clip_info or {})
    info.pop("path", None)
    if not info:
        status = "recording"
    elif info.get("status") == "ready" and not (event.clip and event.clip.is_file()):
        status = "deleted"  # removed by the size or age cap
    else:
        status = str(info.get("status"))
    info.update(status=status, url=f"{base}/api/events/{event.id}/clip.mp4")
    return info


def find(store: EventStore, event_id: str) -> StoredEvent:
    """The occurrence ``event_id``; :class:`ApiError` (404) if unknown."""
    event = store.get(event_id) if _ID.match(event_id) else None
    if event is None:
        raise ApiError(404, f"no event {event_id!r}")
    return event


def media_file(store: EventStore, event_id: str, kind: str) -> Path:
    """The snapshot or clip file of an occurrence; 404 with the reason when there is none."""
    event = find(store, event_id)
    path = event.snapshot if kind == "snapshot.jpg" else event.clip
    if kind == "clip.mp4":
        clip = _clip_json(event, "")
        status = None if clip is None else str(clip.get("status"))
        if status != "ready":
            reason = {None: "the rule records no clip", "recording": "is still being recorded"}
            raise ApiError(404, f"event {event_id}: clip {reason.get(status, status)}")
    if path is None or not path.is_file():
        what = "snapshot" if kind == "snapshot.jpg" else "clip"
        raise ApiError(404, f"event {event_id} has no {what} (or it was deleted)")
    return path
