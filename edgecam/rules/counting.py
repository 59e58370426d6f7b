"""Line crossings (alerts, counted) and counts (crossings per direction or zone occupancy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from edgecam.event import Event, new_event_id
from edgecam.rules.base import Rule
from edgecam.rules.config import CountRuleConfig, LineRuleConfig
from edgecam.rules.scene import Crossing, Observation
from edgecam.track.tracker import Track

Dir = Literal["in", "out"]


class _Counter(Rule):
    """Crossing counts per direction, reset on the rule's ``reset`` period."""

    config: LineRuleConfig | CountRuleConfig

    def __init__(
        self,
        config: LineRuleConfig | CountRuleConfig,
        camera: str,
        new_id: Callable[[], str] = new_event_id,
    ) -> None:
        super().__init__(config, camera, new_id)
        wanted = config.direction
        self.directions: tuple[Dir, ...] = ("in", "out") if wanted == "both" else (wanted,)
        self.counts: dict[str, int] = dict.fromkeys(self.directions, 0)
        self._period: tuple[int, int] | None = None

    def _reset_if_due(self, wall: float) -> bool:
        """Zero the counts when a new reset period began; True if counts were zeroed."""
        minute = int(wall // 60)
        if self._period is not None and self._period[0] == minute:
            return False
        period = self.config.reset.period(wall)
        reset = self._period is not None and self._period[1] != period and any(self.counts.values())
        if reset:
            self.counts = dict.fromkeys(self.directions, 0)
        self._period = (minute, period)
        return reset

    def _crossings(self, obs: Observation) -> list[Crossing]:
        """This frame's crossings of the rule's line that count."""
        return [
            c
            for c in obs.crossings
            if c.line == self.config.line
            and c.direction in self.counts
            and self.matches(c.track, obs.frame)
        ]

    def count(self) -> int:
        """Crossings in the counted directions since the last reset."""
        return sum(self.counts.values())

    def totals(self) -> dict[str, int]:
        """The count per counted direction and their ``total``, for count events."""
        return {**self.counts, "total": sum(self.counts.values())}


class LineRule(_Counter):
    """A ``count`` event per crossing (held back during the cooldown; counting goes on)."""

    config: LineRuleConfig

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Advance by one frame."""
        events = []
        if self._reset_if_due(obs.frame.wall):
            # Zeros, so that retained count topics follow the reset.
            events += [
                self.event(
                    "count", obs.frame, None, line=self.config.line, direction=d, count=0,
                    totals=self.totals(),
                )
                for d in self.directions
            ]  # fmt: skip
        for crossing in self._crossings(obs):
            self.counts[crossing.direction] += 1
            if self.cooled(obs.frame.mono):
                self.last_alert = obs.frame.mono
                events.append(self._crossing_event(obs, crossing))
        return events

    def _crossing_event(self, obs: Observation, crossing: Crossing) -> Event:
        return self.event(
            "count", obs.frame, crossing.track, line=crossing.line,
            direction=crossing.direction, count=self.counts[crossing.direction],
            totals=self.totals(),
        )  # fmt: skip


class CountRule(_Counter):
    """A ``count`` event whenever a count changes, at most one per ``cooldown`` per count."""

    config: CountRuleConfig

    def __init__(
        self, config: CountRuleConfig, camera: str, new_id: Callable[[], str] = new_event_id
    ) -> None:
        super().__init__(config, camera, new_id)
        self.occupancy = 0
        self._sent: dict[str, int] = {}
        self._latest: dict[str, Track] = {}

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Advance by one frame."""
        zone = self.config.zone
        if zone is not None:
            inside = [t for t in obs.tracks if zone in t.zones and self.matches(t, obs.frame)]
            self.occupancy = len(inside)
            return self._changed(obs, {"occupancy": self.occupancy})
        self._reset_if_due(obs.frame.wall)
        for crossing in self._crossings(obs):
            self.counts[crossing.direction] += 1
            self._latest[crossing.direction] = crossing.track
        return self._changed(obs, self.counts)

    def _changed(self, obs: Observation, values: dict[str, int]) -> list[Event]:
        now = obs.frame.mono
        events = []
        for key, value in values.items():
            if self._sent.get(key, 0) == value or not self.cooled(now):
                continue
            self._sent[key] = value
            track = self._latest.get(key)
            direction: Dir | None = key if key in ("in", "out") else None  # type: ignore[assignment]
            totals = self.totals() if self.config.zone is None else None
            events.append(
                self.event(
                    "count", obs.frame, track, zone=self.config.zone, line=self.config.line,
                    direction=direction, count=value, totals=totals,
                )
            )  # fmt: skip
        if events:
            self.last_alert = now
        return events

    def count(self) -> int:
        """Occupancy of the zone, or crossings in the counted directions since the reset."""
        return self.occupancy if self.config.zone is not None else super().count()
