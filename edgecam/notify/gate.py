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

    def cooling(self, now: float) -> dict[str, float]:
        """The cooldowns still running at ``now``, as ``{"target/camera/rule": sent at}``."""
        return {
            "/".join(key): wall
            for key, wall in list(self._last.items())
            if key[0] in self.targets and wall + self.targets[key[0]].cooldown > now
        }

    def resume(self, cooling: Mapping[str, object]) -> None:
        """Take over cooldowns from :meth:`cooling` (an earlier run's): the later time wins."""
        for name, wall in cooling.items():
            key = tuple(name.split("/"))
            if len(key) == 3 and isinstance(wall, int | float) and key[0] in self.targets:
                k3 = (key[0], key[1], key[2])
                self._last[k3] = max(float(wall), self._last.get(k3, float("-inf")))

    def _suppress(self, target: str, reason: Literal["schedule", "cooldown"]) -> Verdict:
        key = (target, reason)
        self.suppressed[key] = self.suppressed.get(key, 0) + 1
        return reason
