"""The sub label where people look: snapshot captions and live-view track labels."""

from __future__ import annotations

import cv2
import numpy as np

from edgecam.event import Event
from edgecam.pipeline.annotate import render_snapshot
from edgecam.web.overlay import draw_overlay
from edgecam.web.view import TrackBox

BOX = (0.05, 0.3, 0.3, 0.6)


def _ink_right_of(image: np.ndarray, x: int) -> int:
    """Bright pixels right of column ``x`` (text drawn beyond a short caption's end)."""
    return int((image[:, x:].max(axis=2) > 100).sum())


def _caption(sub_label: str | None) -> np.ndarray:
    event = Event("x", "start", "r", "c", "t", 1, label="bird", score=0.9, box=BOX, track_id=3,
                  sub_label=sub_label)  # fmt: skip
    jpeg = render_snapshot(np.zeros((240, 640, 3), np.uint8), event, None)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return np.asarray(image)[60:100]  # the caption's band above the box, below the title


def test_snapshot_captions_name_the_species() -> None:
    assert _ink_right_of(_caption(None), 200) == 0
    assert _ink_right_of(_caption("Black-capped Chickadee"), 200) > 50


def test_live_boxes_show_the_sub_label() -> None:
    blank = np.zeros((240, 640, 3), np.uint8)
    plain = draw_overlay(blank, None, [], [TrackBox(3, "bird", BOX)])
    named = draw_overlay(blank, None, [], [TrackBox(3, "bird", BOX, "Blue Jay")])
    assert _ink_right_of(plain, 80) == 0  # "#3"
    assert _ink_right_of(named, 80) > 50  # "#3 Blue Jay"
