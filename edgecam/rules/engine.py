"""The rule engine: every rule of every camera, advanced once per analysed frame."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from edgecam.config.models import Config
from edgecam.rules.config import RuleConfig
from edgecam.rules.events import Event, new_event_id
from edgecam.rules.presence import PresenceRule
from edgecam.types import Detection, Frame


class RuleEngine:
    """Holds the rules' state; pure apart from that: time comes in with the frame."""

    def __init__(
        self, rules: Sequence[RuleConfig], new_id: Callable[[], str] = new_event_id
    ) -> None:
        self._rules = [PresenceRule(config, new_id) for config in rules]

    @classmethod
    def from_config(cls, config: Config, new_id: Callable[[], str] = new_event_id) -> RuleEngine:
        """The engine for a validated config (rules, and the cameras' zones and lines)."""
        return cls(config.rules, new_id)

    def process(self, frame: Frame, detections: Sequence[Detection]) -> list[Event]:
        """Events caused by one analysed frame of ``frame.camera``."""
        events: list[Event] = []
        for rule in self._rules:
            if rule.applies_to(frame.camera):
                events.extend(rule.evaluate(frame, detections))
        return events

    def finish(self, frame: Frame) -> list[Event]:
        """Close open states of ``frame.camera`` at the end of its stream."""
        events: list[Event] = []
        for rule in self._rules:
            if rule.applies_to(frame.camera):
                events.extend(rule.finish(frame))
        return events
