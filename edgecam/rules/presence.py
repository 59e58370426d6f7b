"""Presence: a labelled object in a camera's view with a minimum score."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from edgecam.rules.config import PresenceRuleConfig
from edgecam.rules.events import Event, iso_utc, new_event_id
from edgecam.types import Detection, Frame


class PresenceRule:
    """Emits ``start`` when a match appears and ``end`` once none was seen for ``off_delay``."""

    def __init__(
        self, config: PresenceRuleConfig, new_id: Callable[[], str] = new_event_id
    ) -> None:
        self.config = config
        self.name = config.name
        self._labels = frozenset(config.labels)
        self._new_id = new_id
        self.active = False
        self._last_seen = 0.0
        self._last_match: Detection | None = None
        self._ended_at = float("-inf")

    def applies_to(self, camera: str) -> bool:
        """True when this rule watches ``camera``."""
        return self.config.camera is None or self.config.camera == camera

    def best_match(self, detections: Sequence[Detection]) -> Detection | None:
        """The highest-scoring detection that satisfies the rule's filters."""
        best = None
        for det in detections:
            matches = det.label in self._labels and det.score >= self.config.min_score
            if matches and (best is None or det.score > best.score):
                best = det
        return best

    def evaluate(self, frame: Frame, detections: Sequence[Detection]) -> list[Event]:
        """Advance the rule by one analysed frame; time is the frame's monotonic time."""
        match = self.best_match(detections)
        now = frame.mono
        if match is not None:
            self._last_seen = now
            self._last_match = match
            if not self.active and now - self._ended_at >= self.config.cooldown:
                self.active = True
                return [self._event("start", frame, match)]
            return []
        if self.active and now - self._last_seen >= self.config.off_delay:
            self.active = False
            self._ended_at = now
            return [self._event("end", frame, self._last_match)]
        return []

    def finish(self, frame: Frame) -> list[Event]:
        """Close an open presence when the stream ends."""
        if not self.active:
            return []
        self.active = False
        return [self._event("end", frame, self._last_match)]

    def _event(self, kind: str, frame: Frame, det: Detection | None) -> Event:
        return Event(
            id=self._new_id(),
            type="start" if kind == "start" else "end",
            rule=self.name,
            camera=frame.camera,
            ts=iso_utc(frame.wall),
            frame_seq=frame.seq,
            label=det.label if det else None,
            score=det.score if det else None,
            box=det.box if det else None,
        )
