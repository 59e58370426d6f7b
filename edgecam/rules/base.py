"""What every rule shares: object filters, schedule, cooldown and event building."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from edgecam.event import Event, EventType, iso_utc
from edgecam.rules.config import AnyRuleConfig, LabelFilter, PathConfig
from edgecam.rules.scene import Observation
from edgecam.track.tracker import Track
from edgecam.types import Frame


@dataclass(frozen=True, slots=True)
class Filter:
    """Resolved filters for one label."""

    min_score: float
    min_median_score: float
    min_area: float
    max_area: float
    min_aspect: float
    max_aspect: float


def _resolve(rule: AnyRuleConfig, override: LabelFilter | None) -> Filter:
    def pick(key: str, default: float) -> float:
        value = getattr(override, key, None) if override is not None else None
        return float(value) if value is not None else default

    return Filter(
        pick("min_score", rule.min_score),
        pick("min_median_score", rule.min_median_score),
        pick("min_area", rule.min_area),
        pick("max_area", rule.max_area),
        pick("min_aspect", rule.min_aspect),
        pick("max_aspect", rule.max_aspect if rule.max_aspect is not None else float("inf")),
    )


@dataclass(slots=True)
class Episode:
    """An open start of a rule, until its end: what the end event reports about it."""

    start_id: str
    since: float
    max_score: float | None = None
    zones: set[str] = field(default_factory=set)

    def note(self, tracks: Iterable[Track]) -> None:
        """Take in the objects of this frame: their best score and the zones they visited."""
        for track in tracks:
            if self.max_score is None or track.peak_score > self.max_score:
                self.max_score = track.peak_score
            self.zones |= track.zones_visited

    def closing(self, now: float) -> dict[str, Any]:
        """The end event's extra fields: duration, start id, max score, zones visited."""
        return {
            "duration": now - self.since,
            "start_id": self.start_id,
            "max_score": self.max_score,
            "zones_visited": tuple(sorted(self.zones)),
        }


def path_ok(track: Track, path: PathConfig) -> bool:
    """True when the track went through ``path.zones`` (in order if asked) and moved enough."""
    if track.travel < path.min_distance:
        return False
    if not path.ordered:
        return all(zone in track.zones_visited for zone in path.zones)
    entered = iter(track.zone_path)
    return all(zone in entered for zone in path.zones)  # a subsequence, in order


class Matcher:
    """Decides whether a track is one a rule cares about (labels and filters)."""

    def __init__(self, rule: AnyRuleConfig) -> None:
        self.filters = {label: _resolve(rule, rule.filters.get(label)) for label in rule.labels}
        self.path = rule.path
        self.sub_labels = frozenset(rule.sub_labels) if rule.sub_labels else None
        """Only tracks a classifier named one of these (None: any track)."""
        stationary = getattr(rule, "stationary", "include")
        self.stationary: bool | None = None if stationary == "include" else stationary == "only"
        """None: either; True: stationary objects only; False: moving ones only."""

    def __call__(self, track: Track, frame: Frame) -> bool:
        """True when ``track`` passes the filters for its label."""
        f = self.filters.get(track.label)
        if f is None or track.score < f.min_score:
            return False
        if self.sub_labels is not None and track.sub_label not in self.sub_labels:
            return False
        if self.stationary is not None and track.stationary != self.stationary:
            return False
        if self.path is not None and not path_ok(track, self.path):
            return False
        box = track.box
        w, h = box[2] - box[0], box[3] - box[1]
        area = w * h
        if not f.min_area <= area <= f.max_area:
            return False
        if f.min_aspect > 0.0 or f.max_aspect != float("inf"):
            width, height = frame.size
            aspect = (w * width) / (h * height) if h > 0 else float("inf")
            if not f.min_aspect <= aspect <= f.max_aspect:
                return False
        return f.min_median_score <= 0.0 or track.median_score >= f.min_median_score


def _sub_fields(track: Track) -> dict[str, Any]:
    """A classified track's sub label, its score, the top three and the scientific name."""
    return {
        "sub_label": track.sub_label,
        "sub_score": track.sub_score,
        "sub_top": track.sub_top,
        "scientific_name": track.sub_scientific,
    }


class Rule:
    """Base of the rule kinds: call :meth:`step` once per frame of the rule's camera."""

    def __init__(self, config: AnyRuleConfig, camera: str, new_id: Callable[[], str]) -> None:
        self.config = config
        self.name = config.name
        self.camera = camera
        self.matches = Matcher(config)
        self._new_id = new_id
        self._schedules = config.schedules
        self._armed_minute: tuple[int, bool] | None = None
        self.armed = True
        self.last_alert = float("-inf")

    def is_armed(self, wall: float) -> bool:
        """Whether the schedule arms the rule at ``wall`` (cached per minute of wall time)."""
        if not self._schedules:
            return True
        minute = int(wall // 60)
        if self._armed_minute is None or self._armed_minute[0] != minute:
            armed = any(s.armed(wall) for s in self._schedules)
            self._armed_minute = (minute, armed)
        return self._armed_minute[1]

    def step(self, obs: Observation) -> list[Event]:
        """Advance by one frame: evaluate when armed, close open states when disarmed."""
        armed = self.is_armed(obs.frame.wall)
        was, self.armed = self.armed, armed
        if armed:
            return self.evaluate(obs, rearmed=not was)
        return self.disarm(obs.frame) if was else []

    def cooled(self, now: float) -> bool:
        """True when the cooldown since the last alert has passed."""
        return now - self.last_alert >= self.config.cooldown

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Events for one frame while armed; ``rearmed`` on the first frame after disarm."""
        raise NotImplementedError

    def disarm(self, frame: Frame) -> list[Event]:
        """The schedule ended: close open states."""
        return self.finish(frame)

    def finish(self, frame: Frame) -> list[Event]:
        """The stream ended: close open states."""
        return []

    def state(self) -> bool | None:
        """ON/OFF for rules with a state, None for counting rules."""
        return None

    def count(self) -> int | None:
        """The published count for counting rules, None for others."""
        return None

    def event(
        self,
        kind: EventType,
        frame: Frame,
        track: Track | None = None,
        *,
        zone: str | None = None,
        line: str | None = None,
        direction: Literal["in", "out"] | None = None,
        count: int | None = None,
        **extra: Any,
    ) -> Event:
        """An event of this rule, with the track's label, score and box when there is one.

        ``extra`` sets the optional fields of :class:`Event` (``duration``, ``totals``, ...).
        """
        return Event(
            id=self._new_id(),
            type=kind,
            rule=self.name,
            camera=self.camera,
            ts=iso_utc(frame.wall),
            frame_seq=frame.seq,
            label=track.label if track else None,
            score=track.score if track else None,
            box=track.box if track else None,
            track_id=track.id if track else None,
            zone=zone,
            line=line,
            direction=direction,
            count=count,
            stationary=True if track is not None and track.stationary else None,
            **(_sub_fields(track) if track is not None and track.sub_top else {}),
            **extra,
        )
