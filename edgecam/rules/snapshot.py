"""Which events get a snapshot (drawing them is :mod:`edgecam.service.annotate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgecam.rules.events import Event

if TYPE_CHECKING:
    from edgecam.rules.engine import RuleEngine


def wants_snapshot(engine: RuleEngine, event: Event) -> bool:
    """True for alerts (not ``end``) of rules with ``snapshot: true``."""
    if event.type == "end":
        return False
    try:
        return engine.rule(event.camera, event.rule).config.snapshot
    except KeyError:
        return False
