"""Rule configuration: one model per rule kind, picked by ``kind``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from edgecam.clips.config import RuleClipConfig
from edgecam.rules.schedule import ResetConfig, ScheduleConfig
from edgecam.schema import Duration, Name, StrictModel


class LabelFilter(StrictModel):
    """Filters for one label; unset keys fall back to the rule's own."""

    min_score: float | None = Field(default=None, gt=0.0, le=1.0)
    """Minimum score of the latest detection."""
    min_median_score: float | None = Field(default=None, ge=0.0, le=1.0)
    """Minimum median score over the track (a stronger false-positive filter)."""
    min_area: float | None = Field(default=None, ge=0.0, le=1.0)
    """Smallest box, as a fraction of the frame."""
    max_area: float | None = Field(default=None, ge=0.0, le=1.0)
    """Largest box, as a fraction of the frame."""
    min_aspect: float | None = Field(default=None, ge=0.0)
    """Smallest width / height of the box in pixels (people are about 0.3-0.7)."""
    max_aspect: float | None = Field(default=None, ge=0.0)
    """Largest width / height of the box in pixels."""


def _as_list(value: object) -> object:
    return [value] if isinstance(value, dict | ScheduleConfig) else value


class PathConfig(StrictModel):
    """Conditions on the way an object came: zones it went through, and how far it moved."""

    zones: list[Name] = Field(default_factory=list)
    """Zones of the camera the object must have been in (so far in its track)."""
    ordered: bool = True
    """The ``zones`` in this order: e.g. ``[walkway, door]`` is the walkway first, then the door."""
    min_distance: float = Field(default=0.0, ge=0.0, le=1.5)
    """How far (frame units, the frame's width is 1) the object's centre must have got from where
    its track began: keeps still false detections (a poster, a statue) out."""


class RuleBase(StrictModel):
    """What every rule has: a name, a camera, object filters, a cooldown and a schedule."""

    name: Name
    """Unique rule name; appears in MQTT topics and events."""
    camera: Name | None = None
    """The camera this rule watches; default: every camera."""
    labels: list[str] = Field(default_factory=lambda: ["person"], min_length=1)
    """Labels that match, e.g. ``[person, dog]``."""
    min_score: float = Field(default=0.5, gt=0.0, le=1.0)
    """Minimum score of the latest detection of a track."""
    min_median_score: float = Field(default=0.0, ge=0.0, le=1.0)
    """Minimum median score over the track (a stronger false-positive filter)."""
    min_area: float = Field(default=0.0, ge=0.0, le=1.0)
    """Smallest box, as a fraction of the frame."""
    max_area: float = Field(default=1.0, ge=0.0, le=1.0)
    """Largest box, as a fraction of the frame."""
    min_aspect: float = Field(default=0.0, ge=0.0)
    """Smallest width / height of the box in pixels."""
    max_aspect: float | None = Field(default=None, ge=0.0)
    """Largest width / height of the box in pixels; default: no limit."""
    sub_labels: list[str] = Field(default_factory=list)
    """Only objects a classifier named one of these (``[Northern Cardinal, Blue Jay]``); an
    object not yet classified, or classified as something else, does not match."""
    filters: dict[str, LabelFilter] = Field(default_factory=dict)
    """Per-label overrides of the filters above, e.g. ``{car: {min_area: 0.02}}``."""
    cooldown: Duration = 0.0
    """Minimum time between two alerts of this rule (``start``/``update``/``count`` events)."""
    schedule: Annotated[list[ScheduleConfig], BeforeValidator(_as_list)] = Field(
        default_factory=list
    )
    """When the rule is armed: one window or a list of them (any arms it); default: always."""
    snapshot: bool = True
    """Publish an annotated JPEG of the frame with each alert."""
    path: PathConfig | None = None
    """Only objects whose path so far meets these conditions (zones in order, distance moved)."""
    clip: RuleClipConfig | None = None
    """Record a video clip of each event, e.g. ``{pre: 5s, post: 5s, max: 2m}``; default: none."""
    notify: list[Name] = Field(default_factory=list)
    """Targets under ``notify.targets`` that this rule's events are sent to, e.g. ``[phone]``."""

    @property
    def schedules(self) -> list[ScheduleConfig]:
        """The schedule windows (empty: always armed)."""
        return self.schedule

    @model_validator(mode="after")
    def _filters_fit(self) -> RuleBase:
        if unknown := sorted(set(self.filters) - set(self.labels)):
            raise ValueError(f"filters for labels not in labels: {', '.join(unknown)}")
        if self.min_area > self.max_area:
            raise ValueError("min_area is larger than max_area")
        return self


Stationary = Literal["include", "exclude", "only"]


class PresenceRuleConfig(RuleBase):
    """ON while a matching object is in view (or in ``zone``); ``start`` and ``end`` events."""

    kind: Literal["presence"] = "presence"
    stationary: Stationary = "include"
    """Stationary objects (``tracker.stationary``): ``include``, ``exclude`` (moving ones only)
    or ``only`` (e.g. a car parked in the bay)."""
    zone: Name | None = None
    """Only objects in this zone of the camera count; default: the whole frame."""
    min_duration: Duration = 0.0
    """How long objects must be present before the state goes ON."""
    off_delay: Duration = 2.0
    """How long nothing may match before the state goes OFF (rides out missed frames)."""
    updates: bool = False
    """Also send an ``update`` event when another object joins while ON."""


class DwellRuleConfig(RuleBase):
    """Loitering: an object stays in a zone for at least ``min_dwell``; one alert per object."""

    kind: Literal["dwell"] = "dwell"
    stationary: Stationary = "include"
    """Stationary objects: ``include``, ``exclude`` (moving ones only) or ``only``."""
    zone: Name
    """The zone the object must stay in."""
    min_dwell: Duration
    """How long an object must stay before the alert."""


Direction = Literal["in", "out", "both"]


class LineRuleConfig(RuleBase):
    """An alert each time a matching object crosses a line in the chosen direction; counted."""

    kind: Literal["line"] = "line"
    line: Name
    """The camera's line."""
    direction: Direction = "both"
    """``in`` (left to right, looking from point 1 to point 2 of the line), ``out`` or ``both``."""
    reset: ResetConfig = Field(default_factory=ResetConfig)
    """When the crossing counts go back to zero."""


class CountRuleConfig(RuleBase):
    """Counts, not alerts: crossings of a line per direction, or the occupancy of a zone."""

    kind: Literal["count"] = "count"
    line: Name | None = None
    """Count crossings of this line..."""
    zone: Name | None = None
    """...or the matching objects in this zone (exactly one of the two)."""
    direction: Direction = "both"
    """Which crossing directions are counted (lines only)."""
    reset: ResetConfig = Field(default_factory=ResetConfig)
    """When crossing counts go back to zero (occupancy is always current)."""
    by: Literal["sub_label"] | None = None
    """``sub_label``: count each object once per sub label (a day's species tally with
    ``reset: {every: daily}``), when a classifier named it: crossing ``line``, in ``zone``, or
    anywhere in view with neither."""

    @model_validator(mode="after")
    def _one_target(self) -> CountRuleConfig:
        both = self.line is not None and self.zone is not None
        if both or (self.by is None and self.line is None and self.zone is None):
            raise ValueError(
                "a count rule needs exactly one of line or zone (by: sub_label: at most one)"
            )
        return self


class AbsenceRuleConfig(RuleBase):
    """ON when nothing matching was seen (in ``zone``) for ``for``; e.g. no car in the bay."""

    kind: Literal["absence"] = "absence"
    zone: Name | None = None
    """Only objects in this zone count; default: the whole frame."""
    absent_for: Duration = Field(alias="for")
    """How long nothing may match before the state goes ON."""


def _kind(value: object) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    # Tags are not YAML keys (a "line" tag would clash with the line key in error paths).
    return f"kind={kind}" if isinstance(kind, str) else None


RuleConfig = Annotated[
    Annotated[PresenceRuleConfig, Tag("kind=presence")]
    | Annotated[DwellRuleConfig, Tag("kind=dwell")]
    | Annotated[LineRuleConfig, Tag("kind=line")]
    | Annotated[CountRuleConfig, Tag("kind=count")]
    | Annotated[AbsenceRuleConfig, Tag("kind=absence")],
    Discriminator(
        _kind,
        custom_error_type="rule_kind",
        custom_error_message="kind must be one of presence, dwell, line, count, absence",
    ),
]
"""Any rule config; ``kind`` selects the rule."""

AnyRuleConfig = (
    PresenceRuleConfig | DwellRuleConfig | LineRuleConfig | CountRuleConfig | AbsenceRuleConfig
)
"""The union of rule config classes, for type hints."""
