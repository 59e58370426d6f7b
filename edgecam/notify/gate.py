"""Which events notify a target: the event type, the target's schedule and its cooldown.

Pure and driven by the event's own time (``ts``), so a recording gives the same notifications
on every run, and a test can fire a rule a hundred times a minute without sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from edgecam.event import Event
from edgecam.notify.config import TargetConfig
from edgecam.rules.schedule import any_armed

Verdict = Literal["send", "type", "schedule", "cooldown"]


@dataclass(slots=True)
class Gate:
    """Decides, event by event, which targets get a notification; counts the suppressed ones."""

    targets: Mapping[str, TargetConfig]
    suppressed: dict[tuple[str, str], int] = field(default_factory=dict)
    """Notifications not sent, by ``(target, reason)``; reason ``cooldown`` or ``schedule``."""
    _last: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def decide(self, target: str, event: Event, wall: float) -> Verdict:
        """``send``, or why not; a ``send`` starts the cooldown of this rule, camera and target."""
        config = self.targets[target]
        if event.type not in config.types:
            return "type"
        if not any_armed(config.schedule, wall):
            return self._suppress(target, "schedule")
        key = (target, event.camera, event.rule)
        last = self._last.get(key)
        # A clock that jumped back by more than the cooldown starts afresh.
        if last is not None and last - config.cooldown < wall < last + config.cooldown:
            return self._suppress(target, "cooldown")
        self._last[key] = wall
        return "send"

    def _suppress(self, target: str, reason: Literal["schedule", "cooldown"]) -> Verdict:
        key = (target, reason)
        self.suppressed[key] = self.suppressed.get(key, 0) + 1
        return reason
