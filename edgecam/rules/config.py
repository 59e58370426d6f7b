"""Rule configuration: one model per rule kind, picked by ``kind``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edgecam.config.base import Duration, Name, StrictModel


class PresenceRuleConfig(StrictModel):
    """ON while a matching object is in view; ``start`` and ``end`` events."""

    kind: Literal["presence"] = "presence"
    name: Name
    """Unique rule name; appears in MQTT topics and events."""
    camera: Name | None = None
    """The camera this rule watches; default: every camera."""
    labels: list[str] = Field(default_factory=lambda: ["person"], min_length=1)
    """Labels that match, e.g. ``[person, dog]``."""
    min_score: float = Field(default=0.5, gt=0.0, le=1.0)
    """Minimum detection score for a match."""
    off_delay: Duration = 2.0
    """How long nothing may match before the state goes OFF (rides out missed frames)."""
    cooldown: Duration = 0.0
    """Minimum time after an ``end`` before the next ``start``."""


RuleConfig = PresenceRuleConfig
"""Any rule config; ``kind`` selects the rule."""
