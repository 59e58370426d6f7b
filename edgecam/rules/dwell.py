"""Dwell (loitering): an object stays in a zone for at least ``min_dwell``."""

from __future__ import annotations

from collections.abc import Callable

from edgecam.rules.base import Rule
from edgecam.rules.config import DwellRuleConfig
from edgecam.rules.events import Event, new_event_id
from edgecam.rules.scene import Observation
from edgecam.track.tracker import Track
from edgecam.types import Frame


class DwellRule(Rule):
    """One ``start`` per object and stay; ``end`` when it leaves the zone or is lost."""

    config: DwellRuleConfig

    def __init__(
        self, config: DwellRuleConfig, camera: str, new_id: Callable[[], str] = new_event_id
    ) -> None:
        super().__init__(config, camera, new_id)
        self.loitering: dict[int, Track] = {}

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Advance by one frame."""
        now, zone, frame = obs.frame.mono, self.config.zone, obs.frame
        events: list[Event] = []
        staying: set[int] = set()
        for track in obs.tracks:
            since = track.zone_since.get(zone)
            if since is None:
                continue
            staying.add(track.id)
            # Filters gate the alert only: a dip in score must not end a stay.
            if (
                track.id not in self.loitering
                and now - since >= self.config.min_dwell
                and self.matches(track, frame)
                and self.cooled(now)
            ):
                self.loitering[track.id] = track
                self.last_alert = now
                events.append(self.event("start", frame, track, zone=zone))
        for track_id in [t for t in self.loitering if t not in staying]:
            events.append(self.event("end", frame, self.loitering.pop(track_id), zone=zone))
        return events

    def finish(self, frame: Frame) -> list[Event]:
        """End every open stay."""
        events = [
            self.event("end", frame, t, zone=self.config.zone) for t in self.loitering.values()
        ]
        self.loitering.clear()
        return events

    def state(self) -> bool:
        """True while someone is loitering."""
        return bool(self.loitering)
