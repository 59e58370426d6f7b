"""Presence and absence: a state that is ON while matching objects are (or are not) in view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgecam.event import Event, new_event_id
from edgecam.rules.base import Episode, Rule
from edgecam.rules.config import AbsenceRuleConfig, PresenceRuleConfig
from edgecam.rules.scene import Observation
from edgecam.track.tracker import Track
from edgecam.types import Frame


def visible_matches(rule: Rule, zone: str | None, obs: Observation) -> list[Track]:
    """Tracks in view that pass the rule's filters and are in ``zone`` if one is set.

    In view: seen in this frame, or stationary (kept while its detection flickers).
    """
    return [
        t
        for t in obs.tracks
        if (t.seen_now or t.stationary)
        and (zone is None or zone in t.zones)
        and rule.matches(t, obs.frame)
    ]


class PresenceRule(Rule):
    """``start`` once objects were present for ``min_duration``; ``end`` after ``off_delay``."""

    config: PresenceRuleConfig

    def __init__(
        self, config: PresenceRuleConfig, camera: str, new_id: Callable[[], str] = new_event_id
    ) -> None:
        super().__init__(config, camera, new_id)
        self.active = False
        self._last_seen = float("-inf")
        self._pending_since: float | None = None
        self._members: set[int] = set()
        self._last_track: Track | None = None
        self._episode: Episode | None = None

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Advance by one frame."""
        now, zone = obs.frame.mono, self.config.zone
        found = visible_matches(self, zone, obs)
        best = max(found, key=lambda t: t.score) if found else None
        if best is not None:
            self._last_seen, self._last_track = now, best
        if not self.active:
            return self._maybe_start(obs, found)
        if self._episode is not None:
            self._episode.note(found)
        if found:
            new = [t for t in found if t.id not in self._members]
            self._members.update(t.id for t in new)
            if new and self.config.updates and self.cooled(now):
                self.last_alert = now
                return [self.event("update", obs.frame, new[0], zone=zone)]
            return []
        if now - self._last_seen >= self.config.off_delay:
            return self.finish(obs.frame)
        return []

    def _maybe_start(self, obs: Observation, found: list[Track]) -> list[Event]:
        now = obs.frame.mono
        if not found:
            # A gap longer than off_delay restarts the min_duration wait.
            if self._pending_since is not None and now - self._last_seen > self.config.off_delay:
                self._pending_since = None
            return []
        if self._pending_since is None:
            self._pending_since = now
        if now - self._pending_since < self.config.min_duration or not self.cooled(now):
            return []
        self.active, self.last_alert = True, now
        self._members = {t.id for t in found}
        start = self.event("start", obs.frame, self._last_track, zone=self.config.zone)
        self._episode = Episode(start.id, now)
        self._episode.note(found)
        return [start]

    def finish(self, frame: Frame) -> list[Event]:
        """Go OFF with an ``end`` event if ON."""
        self._pending_since = None
        if not self.active:
            return []
        self.active = False
        episode, self._episode = self._episode, None
        extra = episode.closing(frame.mono) if episode is not None else {}
        return [self.event("end", frame, self._last_track, zone=self.config.zone, **extra)]

    def state(self) -> bool:
        """True while ON."""
        return self.active


class AbsenceRule(Rule):
    """``start`` when nothing matching was seen for ``for``; ``end`` when something appears."""

    config: AbsenceRuleConfig

    def __init__(
        self, config: AbsenceRuleConfig, camera: str, new_id: Callable[[], str] = new_event_id
    ) -> None:
        super().__init__(config, camera, new_id)
        self.active = False
        self._last_present: float | None = None
        self._episode: Episode | None = None

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Advance by one frame; absence is timed from arming (or the first frame) at the latest."""
        now, zone = obs.frame.mono, self.config.zone
        if rearmed or self._last_present is None:
            self._last_present = now
        found = visible_matches(self, zone, obs)
        if found:
            self._last_present = now
            if self.active:
                self.active = False
                best = max(found, key=lambda t: t.score)
                return [self.event("end", obs.frame, best, zone=zone, **self._closing(now))]
            return []
        if (
            not self.active
            and now - self._last_present >= self.config.absent_for
            and self.cooled(now)
        ):
            self.active, self.last_alert = True, now
            start = self.event("start", obs.frame, zone=zone)
            self._episode = Episode(start.id, now)
            return [start]
        return []

    def _closing(self, now: float) -> dict[str, Any]:
        """The end event's duration and start id (no objects were there meanwhile)."""
        episode, self._episode = self._episode, None
        if episode is None:
            return {}
        return {"duration": now - episode.since, "start_id": episode.start_id}

    def finish(self, frame: Frame) -> list[Event]:
        """Go OFF with an ``end`` event if ON."""
        if not self.active:
            return []
        self.active = False
        return [self.event("end", frame, zone=self.config.zone, **self._closing(frame.mono))]

    def state(self) -> bool:
        """True while nothing matching is there."""
        return self.active
