"""MQTT topics and payloads of the contract (docs/architecture.md, MQTT), as pure functions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from edgecam.event import Event

ON = b"ON"
OFF = b"OFF"
ONLINE = b"online"
OFFLINE = b"offline"

COUNTING_KINDS = frozenset({"line", "count"})
"""Rule kinds that publish a count instead of an ON/OFF state."""


class RuleLike(Protocol):
    """What topics need from a rule config: its name, kind and camera (None: every camera)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def camera(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RuleTarget:
    """One rule on one camera: the unit that has a state (or count) topic."""

    camera: str
    rule: str
    kind: str
    directions: tuple[str, ...] = ()
    """For rules that count line crossings: the directions counted (``in``, ``out``)."""
    occupancy: bool = False
    """For counting rules: the count is a zone's occupancy (goes up and down), not crossings."""
    clip: bool = False
    """The rule records clips: it has a retained ``clip`` topic (the latest clip's URL)."""
    classified: bool = False
    """The rule can have a sub label (it filters or counts by one, or a classifier applies to
    its labels): it has a ``sub_label`` sensor."""

    @property
    def counting(self) -> bool:
        """True for rules that count (a sensor), False for ON/OFF rules (a binary sensor)."""
        return self.kind in COUNTING_KINDS


def rule_targets(
    cameras: Iterable[str], rules: Iterable[RuleLike], classified: frozenset[str] = frozenset()
) -> list[RuleTarget]:
    """Every (camera, rule) pair of a config; a rule without a camera applies to all.

    ``classified`` holds the detector labels a configured classifier applies to: the events of
    a rule on one of them can carry a sub label.
    """
    names = list(cameras)
    return [
        RuleTarget(
            camera,
            rule.name,
            rule.kind,
            *_count_shape(rule),
            getattr(rule, "clip", None) is not None,
            _has_sub_label(rule, classified),
        )
        for rule in rules
        for camera in (names if rule.camera is None else [rule.camera])
    ]


def _has_sub_label(rule: RuleLike, classified: frozenset[str]) -> bool:
    """Whether the rule's events can carry a sub label (a rule without labels: any label)."""
    if getattr(rule, "sub_labels", None) or getattr(rule, "by", None) == "sub_label":
        return True
    labels = getattr(rule, "labels", None)
    return bool(classified) and (not labels or not classified.isdisjoint(labels))


def _count_shape(rule: RuleLike) -> tuple[tuple[str, ...], bool]:
    """The directions a counting rule counts, and whether it counts a zone's occupancy."""
    if rule.kind not in COUNTING_KINDS or getattr(rule, "by", None) == "sub_label":
        return (), False
    if getattr(rule, "zone", None) is not None:
        return (), True
    direction = getattr(rule, "direction", "both")
    return (("in", "out") if direction == "both" else (str(direction),)), False


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one device under one prefix."""

    prefix: str
    device: str

    @property
    def base(self) -> str:
        """``<prefix>/<device>``."""
        return f"{self.prefix}/{self.device}"

    @property
    def availability(self) -> str:
        """Retained ``online``/``offline``; ``offline`` is also the last will."""
        return f"{self.base}/availability"

    @property
    def events(self) -> str:
        """One JSON event per message, QoS 1."""
        return f"{self.base}/events"

    @property
    def stats(self) -> str:
        """Retained JSON stats."""
        return f"{self.base}/stats"

    @property
    def detect_set_filter(self) -> str:
        """Subscription filter for every camera's ``detect/set`` command topic."""
        return f"{self.base}/+/detect/set"

    def rule_state(self, camera: str, rule: str) -> str:
        """Retained ``ON``/``OFF`` of a rule on a camera."""
        return f"{self.base}/{camera}/{rule}/state"

    def rule_count(self, camera: str, rule: str) -> str:
        """Retained count of a counting rule on a camera."""
        return f"{self.base}/{camera}/{rule}/count"

    def rule_sub_label(self, camera: str, rule: str) -> str:
        """Retained sub label (a species) of the rule's latest event that had one."""
        return f"{self.base}/{camera}/{rule}/sub_label"

    def rule_attributes(self, camera: str, rule: str) -> str:
        """Retained JSON of the rule's latest event (Home Assistant entity attributes)."""
        return f"{self.base}/{camera}/{rule}/attributes"

    def snapshot(self, camera: str, rule: str) -> str:
        """Retained JPEG of the rule's latest event."""
        return f"{self.base}/{camera}/{rule}/snapshot"

    def clip(self, camera: str, rule: str) -> str:
        """Retained JSON of the rule's latest clip (``url``, ``duration_s``, ``truncated``...)."""
        return f"{self.base}/{camera}/{rule}/clip"

    def detect_set(self, camera: str) -> str:
        """Command topic: ``ON``/``OFF`` resumes or pauses detection on a camera."""
        return f"{self.base}/{camera}/detect/set"

    def detect_state(self, camera: str) -> str:
        """Retained echo of a camera's detection switch."""
        return f"{self.base}/{camera}/detect/state"

    def camera_of_detect_set(self, topic: str) -> str | None:
        """The camera a ``detect/set`` topic names, or None if ``topic`` is not one."""
        head, tail = f"{self.base}/", "/detect/set"
        if topic.startswith(head) and topic.endswith(tail):
            camera = topic[len(head) : -len(tail)]
            if camera and "/" not in camera:
                return camera
        return None


def event_payload(event: Event) -> bytes:
    """The event as compact JSON (the contract's fields)."""
    return json.dumps(event.to_json(), separators=(",", ":")).encode()


def attributes_for_event(topics: Topics, event: Event) -> tuple[str, bytes]:
    """The rule's retained attributes: its latest event (durations, scores, totals, ...)."""
    return topics.rule_attributes(event.camera, event.rule), event_payload(event)


def retained_for_event(
    topics: Topics, event: Event, counts: Mapping[str, int] | None = None
) -> list[tuple[str, bytes]]:
    """Retained state updates an event implies: start -> ON, end -> OFF, count -> the count.

    A count with a direction (line crossings) goes to ``.../count/in`` or ``.../count/out``, and
    ``.../count`` carries both directions added up; ``counts`` holds the latest per-direction
    counts published so far, keyed by topic. A count without a direction (zone occupancy) goes
    to ``.../count`` alone.
    """
    extra = []
    if event.sub_label is not None and event.count != 0:
        extra.append((topics.rule_sub_label(event.camera, event.rule), event.sub_label.encode()))
    if event.type == "start":
        return [(topics.rule_state(event.camera, event.rule), ON), *extra]
    if event.type == "end":
        return [(topics.rule_state(event.camera, event.rule), OFF), *extra]
    if event.type != "count" or event.count is None:
        return extra
    total_topic = topics.rule_count(event.camera, event.rule)
    if event.sub_label is not None and event.direction is None and event.totals is not None:
        # A tally by sub label: the sub label's own count beside the total of all of them.
        return [
            (f"{total_topic}/{topic_level(event.sub_label)}", str(event.count).encode()),
            (total_topic, str(event.totals.get("total", 0)).encode()),
            *extra,
        ]
    if event.direction is None:
        return [(total_topic, str(event.count).encode())]
    other = "out" if event.direction == "in" else "in"
    total = event.count + (counts or {}).get(f"{total_topic}/{other}", 0)
    return [
        (f"{total_topic}/{event.direction}", str(event.count).encode()),
        (total_topic, str(total).encode()),
    ]


def topic_level(name: str) -> str:
    """A sub label as one topic level: ``Black-capped Chickadee`` -> ``black-capped_chickadee``."""
    level = re.sub(r"[^a-z0-9_-]+", "_", name.lower()).strip("_")
    return level or "_"


def initial_retained(topics: Topics, targets: Iterable[RuleTarget]) -> list[tuple[str, bytes]]:
    """States at start: every ON/OFF rule OFF (clears a stale ON left by a crash)."""
    return [(topics.rule_state(t.camera, t.rule), OFF) for t in targets if not t.counting]


def parse_switch(payload: bytes) -> bool | None:
    """``ON`` -> True, ``OFF`` -> False (any case, surrounding blanks ignored); else None."""
    text = payload.strip().upper()
    if text == ON:
        return True
    if text == OFF:
        return False
    return None


def stats_payload(stats: Mapping[str, object], extra: Mapping[str, object]) -> bytes:
    """The pipeline's stats merged with the publisher's own (outbox depth, drops, ...)."""
    return json.dumps({**stats, **extra}, separators=(",", ":"), default=str).encode()


def stale_retained(
    topics: Topics,
    cameras: Iterable[str],
    targets: Iterable[RuleTarget],
    discovery: Iterable[str],
    published: Iterable[str],
) -> list[str]:
    """Retained topics published before (``published``) that the current config no longer has.

    What stays: availability, stats, each camera's detect state, and per rule its state (ON/OFF
    rules) or counts (counting rules), its attributes and snapshot, plus the current
    ``discovery`` topics.
    Everything else edgecam once published is stale: a rule or camera removed or renamed, a rule
    that changed kind, another device name or prefix, discovery since turned off.
    """
    current = {topics.availability, topics.stats, *discovery}
    current.update(topics.detect_state(camera) for camera in cameras)
    counts: list[str] = []
    for t in targets:
        current.add(topics.snapshot(t.camera, t.rule))
        current.add(topics.rule_attributes(t.camera, t.rule))
        current.add(topics.rule_sub_label(t.camera, t.rule))
        if t.clip:
            current.add(topics.clip(t.camera, t.rule))
        if t.counting:
            counts.append(topics.rule_count(t.camera, t.rule))  # .../count, .../count/in, ...
        else:
            current.add(topics.rule_state(t.camera, t.rule))
    under_counts = tuple(counts)
    return sorted(t for t in published if t not in current and not t.startswith(under_counts))
