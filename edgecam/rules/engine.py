"""The rule engine: per camera a scene (masks, tracker, zones, lines) and that camera's rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from edgecam.event import Event, new_event_id
from edgecam.rules.areas import LineConfig, MaskConfig, ZoneConfig
from edgecam.rules.base import Rule
from edgecam.rules.config import (
    AbsenceRuleConfig,
    AnyRuleConfig,
    CountRuleConfig,
    DwellRuleConfig,
    LineRuleConfig,
    PresenceRuleConfig,
)
from edgecam.rules.counting import CountRule, LineRule
from edgecam.rules.dwell import DwellRule
from edgecam.rules.presence import AbsenceRule, PresenceRule
from edgecam.rules.scene import Scene
from edgecam.rules.tally import TallyRule
from edgecam.track.config import TrackerConfig
from edgecam.track.tracker import Track
from edgecam.types import Box, Detection, Frame


class CameraAreas(Protocol):
    """What the rules read of a camera's config (``CameraConfig``, which they do not import)."""

    @property
    def zones(self) -> Mapping[str, ZoneConfig]:
        """Named polygons."""

    @property
    def lines(self) -> Mapping[str, LineConfig]:
        """Named directed lines."""

    @property
    def masks(self) -> Sequence[MaskConfig]:
        """Ignored areas."""

    @property
    def tracker(self) -> TrackerConfig:
        """Tracker settings."""


class RulesSource(Protocol):
    """What :meth:`RuleEngine.from_config` reads of a config (``Config`` has it)."""

    @property
    def rules(self) -> Sequence[AnyRuleConfig]:
        """Every rule."""

    @property
    def cameras(self) -> Mapping[str, CameraAreas]:
        """Cameras by name."""


def build_rule(config: AnyRuleConfig, camera: str, new_id: Callable[[], str]) -> Rule:
    """The runtime rule for ``config`` on ``camera``."""
    if isinstance(config, PresenceRuleConfig):
        return PresenceRule(config, camera, new_id)
    if isinstance(config, DwellRuleConfig):
        return DwellRule(config, camera, new_id)
    if isinstance(config, LineRuleConfig):
        return LineRule(config, camera, new_id)
    if isinstance(config, CountRuleConfig):
        if config.by == "sub_label":
            return TallyRule(config, camera, new_id)
        return CountRule(config, camera, new_id)
    if isinstance(config, AbsenceRuleConfig):
        return AbsenceRule(config, camera, new_id)
    raise TypeError(f"unknown rule config {type(config).__name__}")


class CameraRules:
    """One camera's scene and rules."""

    def __init__(self, scene: Scene, rules: list[Rule]) -> None:
        self.scene = scene
        self.rules = rules

    def process(self, frame: Frame, detections: Sequence[Detection]) -> list[Event]:
        """Track, then run every rule on the observation."""
        obs = self.scene.observe(frame, detections)
        events: list[Event] = []
        for rule in self.rules:
            events.extend(rule.step(obs))
        return events


def _needs_areas(rule: AnyRuleConfig) -> bool:
    return getattr(rule, "zone", None) is not None or getattr(rule, "line", None) is not None


class RuleEngine:
    """Holds the tracking and rule state of every camera; time comes in with the frames."""

    def __init__(
        self,
        rules: Sequence[AnyRuleConfig],
        cameras: Mapping[str, CameraAreas] | None = None,
        new_id: Callable[[], str] = new_event_id,
    ) -> None:
        self._rule_configs = list(rules)
        self._camera_configs = dict(cameras or {})
        self._new_id = new_id
        self._cameras: dict[str, CameraRules] = {}

    @classmethod
    def from_config(
        cls, config: RulesSource, new_id: Callable[[], str] = new_event_id
    ) -> RuleEngine:
        """The engine for a validated config (rules, and the cameras' zones and lines)."""
        return cls(config.rules, config.cameras, new_id)

    def camera(self, name: str) -> CameraRules:
        """The scene and rules of camera ``name``, built on its first frame."""
        if (found := self._cameras.get(name)) is not None:
            return found
        cam = self._camera_configs.get(name)
        if cam is None:
            # A camera the config does not know: rules for every camera that need no areas.
            scene = Scene()
            configs = [r for r in self._rule_configs if r.camera is None and not _needs_areas(r)]
        else:
            scene = Scene(dict(cam.zones), dict(cam.lines), cam.masks, cam.tracker)
            configs = [r for r in self._rule_configs if r.camera in (None, name)]
        built = CameraRules(scene, [build_rule(r, name, self._new_id) for r in configs])
        self._cameras[name] = built
        return built

    def process(self, frame: Frame, detections: Sequence[Detection]) -> list[Event]:
        """Events caused by one analysed frame of ``frame.camera``."""
        return self.camera(frame.camera).process(frame, detections)

    def finish(self, frame: Frame) -> list[Event]:
        """Close open states of ``frame.camera`` at the end of its stream."""
        events: list[Event] = []
        for rule in self.camera(frame.camera).rules:
            events.extend(rule.finish(frame))
        return events

    def states(self) -> dict[tuple[str, str], bool]:
        """``(camera, rule) -> ON?`` for every rule with a state (retained MQTT ``state``)."""
        return {
            (cam, rule.name): state
            for cam, rules in self._cameras.items()
            for rule in rules.rules
            if (state := rule.state()) is not None
        }

    def counts(self) -> dict[tuple[str, str], int]:
        """``(camera, rule) -> count`` for line and count rules (retained MQTT ``count``)."""
        return {
            (cam, rule.name): count
            for cam, rules in self._cameras.items()
            for rule in rules.rules
            if (count := rule.count()) is not None
        }

    def directions(self) -> dict[tuple[str, str], dict[str, int]]:
        """``(camera, rule) -> {"in": n, "out": m}`` for rules counting line crossings."""
        return {
            (cam, rule.name): dict(rule.counts)
            for cam, rules in self._cameras.items()
            for rule in rules.rules
            if isinstance(rule, LineRule | CountRule) and rule.config.line is not None
        }

    def live_tracks(self, camera: str) -> list[Track]:
        """Confirmed tracks of ``camera`` now, for the live view (any thread; never builds)."""
        found = self._cameras.get(camera)
        return [] if found is None else [t for t in found.scene.tracker.tracks if t.confirmed]

    def tracks(self, camera: str) -> list[Track]:
        """Every live track of ``camera`` (the tracker's own list: read it, do not keep it)."""
        found = self._cameras.get(camera)
        return [] if found is None else found.scene.tracker.tracks

    def track_boxes(self, camera: str, now: float) -> list[Box]:
        """Where every live track of ``camera`` should be at ``now`` (for detection regions)."""
        found = self._cameras.get(camera)
        return [] if found is None else [t.predict(now) for t in found.scene.tracker.tracks]

    def rule(self, camera: str, name: str) -> Rule:
        """The runtime rule ``name`` of ``camera`` (for tests and introspection)."""
        for rule in self.camera(camera).rules:
            if rule.name == name:
                return rule
        raise KeyError(f"no rule {name!r} on camera {camera!r}")
