"""Scripted detections over time for rule tests: no sleeping, time is in the frames."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from edgecam.config.models import Config
from edgecam.event import Event
from edgecam.rules.engine import RuleEngine
from edgecam.types import Detection, Frame

WALL0 = 1_700_000_000.0
"""2023-11-14T22:13:20Z."""
IMAGE = np.zeros((10, 10, 3), np.uint8)


def at(t: float, seq: int = 0, camera: str = "porch", wall0: float = WALL0) -> Frame:
    """A frame at monotonic time ``t`` (wall time ``wall0 + t``)."""
    return Frame(IMAGE, seq, t, wall0 + t, camera)


def obj(
    x: float, y: float, *, w: float = 0.1, h: float = 0.3, score: float = 0.8, label: str = "person"
) -> Detection:
    """A detection whose bottom-centre anchor is at ``(x, y)``."""
    return Detection(label, 0 if label == "person" else 2, score, (x - w / 2, y - h, x + w / 2, y))


def engine(
    rules: list[dict[str, Any]], camera: dict[str, Any] | None = None, **tracker: Any
) -> RuleEngine:
    """An engine for camera ``porch`` with ``rules``; tracker settings default to min_hits 1."""
    cam = {"source": {"type": "file", "path": "clip.avi"}, **(camera or {})}
    cam["tracker"] = {"min_hits": 1, **tracker}
    config = Config.model_validate({"cameras": {"porch": cam}, "rules": rules})
    ids = (f"id{i}" for i in itertools.count())
    return RuleEngine.from_config(config, new_id=lambda: next(ids))


def run(
    eng: RuleEngine,
    script: Iterable[tuple[float, Sequence[Detection]]],
    wall0: float = WALL0,
    finish: bool = False,
) -> list[Event]:
    """Feed ``(time, detections)`` pairs; return every event."""
    events: list[Event] = []
    frame = at(0.0)
    for seq, (t, dets) in enumerate(script):
        frame = at(t, seq, wall0=wall0)
        events += eng.process(frame, dets)
    if finish:
        events += eng.finish(frame)
    return events


def brief(events: Iterable[Event]) -> list[tuple[str, int]]:
    """``(type, frame_seq)`` of each event."""
    return [(e.type, e.frame_seq) for e in events]


def every(
    step: float, until: float, dets: Sequence[Detection], start: float = 0.0
) -> list[tuple[float, Sequence[Detection]]]:
    """The same detections at ``start, start + step, ...`` up to ``until`` (exclusive)."""
    n = round((until - start) / step)
    return [(start + i * step, dets) for i in range(n)]
