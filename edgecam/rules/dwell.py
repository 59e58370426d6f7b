"""Dwell (loitering): an object stays in a zone for at least ``min_dwell``."""

from __future__ import annotations

from collections.abc import Callable

from edgecam.event import Event, new_event_id
from edgecam.rules.base import Episode, Rule
from edgecam.rules.config import DwellRuleConfig
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
        self._episodes: dict[int, Episode] = {}
        self._entered: dict[int, float] = {}

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
                start = self.event("start", frame, track, zone=zone, dwell=now - since)
                self._episodes[track.id] = Episode(start.id, now)
                self._entered[track.id] = since
                events.append(start)
        for track_id in [t for t in self.loitering if t not in staying]:
            events.append(self._end(frame, track_id))
        return events

    def _end(self, frame: Frame, track_id: int) -> Event:
        """The end of a stay: how long it lasted, in the zone and since the alert."""
        track, episode = self.loitering.pop(track_id), self._episodes.pop(track_id)
        episode.note([track])
        # The stay ends at the track's last sighting: later, if it was lost rather than left.
        dwell = track.last_seen - self._entered.pop(track_id)
        extra = episode.closing(frame.mono)
        return self.event("end", frame, track, zone=self.config.zone, dwell=dwell, **extra)

    def finish(self, frame: Frame) -> list[Event]:
        """End every open stay."""
        return [self._end(frame, track_id) for track_id in list(self.loitering)]

    def state(self) -> bool:
        """True while someone is loitering."""
        return bool(self.loitering)
