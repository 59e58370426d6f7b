"""Counts per sub label: each classified object counted once under what it is (a species tally)."""

from __future__ import annotations

from collections.abc import Callable

from edgecam.event import Event, new_event_id
from edgecam.rules.base import Rule
from edgecam.rules.config import CountRuleConfig
from edgecam.rules.scene import Observation
from edgecam.track.tracker import Track

MAX_REMEMBERED = 4096
"""Counted track ids kept; past this only the live tracks' are kept (the others are gone)."""


class TallyRule(Rule):
    """``kind: count`` with ``by: sub_label``: a ``count`` event each time a sub label's count
    goes up, carrying that sub label, its count and every sub label's in ``totals``."""

    config: CountRuleConfig

    def __init__(
        self, config: CountRuleConfig, camera: str, new_id: Callable[[], str] = new_event_id
    ) -> None:
        super().__init__(config, camera, new_id)
        self.counts: dict[str, int] = {}
        self._counted: set[int] = set()
        self._period: tuple[int, int] | None = None

    def evaluate(self, obs: Observation, rearmed: bool) -> list[Event]:
        """Advance by one frame."""
        events = self._reset_if_due(obs)
        for track in self._candidates(obs):
            if track.id in self._counted or track.sub_label is None:
                continue
            if not self.matches(track, obs.frame):
                continue
            self._remember(track.id, obs.tracks)
            label = track.sub_label
            self.counts[label] = self.counts.get(label, 0) + 1
            if self.cooled(obs.frame.mono):
                self.last_alert = obs.frame.mono
                events.append(
                    self.event(
                        "count", obs.frame, track, zone=self.config.zone, line=self.config.line,
                        count=self.counts[label], totals=self.totals(),
                    )
                )  # fmt: skip
        return events

    def _candidates(self, obs: Observation) -> list[Track]:
        if self.config.line is not None:
            return [c.track for c in obs.crossings if c.line == self.config.line]
        zone = self.config.zone
        if zone is not None:
            return [t for t in obs.tracks if zone in t.zones]
        return obs.tracks

    def _remember(self, track_id: int, live: list[Track]) -> None:
        if len(self._counted) >= MAX_REMEMBERED:
            self._counted = {t.id for t in live}
        self._counted.add(track_id)

    def _reset_if_due(self, obs: Observation) -> list[Event]:
        """Zero the counts when a new period began, with a zero count event per sub label."""
        wall = obs.frame.wall
        minute = int(wall // 60)
        if self._period is not None and self._period[0] == minute:
            return []
        period = self.config.reset.period(wall)
        due = self._period is not None and self._period[1] != period and bool(self.counts)
        self._period = (minute, period)
        if not due:
            return []
        # Objects still in view were counted in the old period; they stay counted there.
        labels, self.counts = sorted(self.counts), {}
        return [
            self.event(
                "count", obs.frame, None, zone=self.config.zone, line=self.config.line, count=0,
                totals={**dict.fromkeys(labels, 0), "total": 0}, sub_label=label,
            )
            for label in labels
        ]  # fmt: skip

    def totals(self) -> dict[str, int]:
        """The count per sub label and their ``total``."""
        return {**dict(sorted(self.counts.items())), "total": sum(self.counts.values())}

    def count(self) -> int:
        """Objects counted since the last reset, every sub label."""
        return sum(self.counts.values())
