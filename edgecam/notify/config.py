"""The ``notify:`` section: named targets (an Apprise URL each, read from a file) and delivery."""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from edgecam.rules.schedule import ScheduleConfig, TimeZoneName
from edgecam.schema import ConfigPath, Duration, Name, StrictModel

TEMPLATE_FIELDS = (
    "what", "where", "label", "sub_label", "score", "zone", "line", "direction", "camera",
    "rule", "type", "count", "time", "date", "clip_url", "device", "id",
)  # fmt: skip
"""The event fields a title or body template may use, as ``{label}``."""

NotifiedType = Literal["start", "update", "end", "count"]
_DEFAULT_TYPES: tuple[NotifiedType, ...] = ("start", "count")


def check_template(value: str) -> str:
    """Check that ``value`` is a ``{field}`` template over :data:`TEMPLATE_FIELDS` only."""
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as err:
        hint = "write fields as {label}, literal braces as {{ }}"
        raise ValueError(f"bad template ({err}); {hint}") from err
    for _text, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown field {{{field}}}; known: {', '.join(TEMPLATE_FIELDS)}")
        if spec or conversion:
            raise ValueError(f"{{{field}}}: no format specs or conversions, only {{{field}}}")
    return value


Template = Annotated[str, Field(max_length=2000)]


def _as_list(value: object) -> object:
    return [value] if isinstance(value, dict | ScheduleConfig) else value


class TargetConfig(StrictModel):
    """One place notifications go: an Apprise URL (ntfy, Telegram, e-mail, a webhook, ...)."""

    url_file: ConfigPath
    """File holding the Apprise URL (it carries the service's token: keep it readable by edgecam
    only); the URL never appears in the config, a log, a metric or the page."""
    title: Template = "{what} on {camera}"
    """Title template over the event's fields, e.g. ``"{label} in {zone}"``."""
    body: Template = "{rule}: {what} {where} at {time}\n{clip_url}"
    """Body template; a field that does not apply to the event is empty (and the spaces around
    it are closed up). ``{what}`` is the label with its sub label, ``bird (robin)``; ``{where}``
    is ``in walkway`` or ``crossing gate (in)``."""
    types: list[NotifiedType] = Field(default_factory=lambda: list(_DEFAULT_TYPES), min_length=1)
    """Event types that notify: ``start`` (an alert begins), ``count`` (a line crossing),
    ``update``, ``end``."""
    cooldown: Duration = 0.0
    """Least time between two notifications of one rule on one camera to this target; the ones in
    between are counted (``edgecam_notify_suppressed``), not sent."""
    schedule: Annotated[list[ScheduleConfig], BeforeValidator(_as_list)] = Field(
        default_factory=list
    )
    """When this target is notified (armed hours; quiet hours are the gaps): one window or a list
    of them, as in rules; default: always."""
    attach: bool = True
    """Attach the event's snapshot where the service takes attachments."""

    @field_validator("title", "body")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_template(value)


class NotifyConfig(StrictModel):
    """Notifications: targets that rules name in their ``notify:`` list, and how they are sent."""

    targets: dict[Name, TargetConfig] = Field(default_factory=dict)
    """Targets by name; rules say ``notify: [phone]``."""
    path: ConfigPath | None = None
    """Directory of the durable queues (SQLite, one per target) and their snapshots; default:
    ``notify/`` in the state directory (``$STATE_DIRECTORY``, else ``/var/lib/edgecam`` when
    writable, else ``~/.local/state/edgecam``)."""
    max_age: Duration = Field(default=86400.0, gt=0.0)
    """A notification not delivered within this time is dropped (and counted)."""
    max_pending: int = Field(default=10_000, ge=10, le=1_000_000)
    """Most notifications waiting per target; when full the oldest are dropped (and counted)."""
    retry_min: Duration = Field(default=1.0, gt=0.0)
    """First wait before sending again to a target that failed; it doubles on each failure..."""
    retry_max: Duration = Field(default=300.0, gt=0.0)
    """...up to this."""
    failing_after: Duration = Field(default=600.0, gt=0.0)
    """A target failing for this long makes ``/healthz`` say degraded (naming the target)."""
    snapshot_wait: Duration = Field(default=2.0, ge=0.0, le=60.0)
    """How long a notification waits for its snapshot to be drawn before it goes without."""
    timezone: TimeZoneName | None = None
    """IANA time zone of ``{time}`` and ``{date}``; default: the system's local time zone.
    (``{clip_url}`` is the clip's URL as ``events.base_url`` makes it.)"""
