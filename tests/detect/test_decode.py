"""Pure decoding and placement arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from edgecam.detect.decode import decode
from edgecam.detect.preprocess import place


def test_decode_thresholds_and_maps_rows() -> None:
    boxes = np.array([[0.1, 0.2, 0.5, 0.6], [0.0, 0.0, 1.0, 1.0], [0.2, 0.2, 0.3, 0.3]], np.float32)
    classes = np.array([0, 2, 17], np.float32)
    scores = np.array([0.9, 0.45, 0.7], np.float32)
    labels = {0: "person", 2: "car"}
    stretch = place(640, 480, 300, 300, "stretch")
    out = decode(
        boxes, classes, scores, 3, labels=labels, threshold=0.5, min_scores={"car": 0.4},
        placement=stretch,
    )  # fmt: skip
    assert [(d.label, round(d.score, 2)) for d in out] == [
        ("person", 0.9), ("car", 0.45), ("class17", 0.7),
    ]  # fmt: skip
    assert out[0].box == pytest.approx((0.2, 0.1, 0.6, 0.5))
    assert (
        decode(
            boxes,
            classes,
            scores,
            0,
            labels=labels,
            threshold=0.5,
            min_scores={},
            placement=stretch,
        )
        == []
    )


def test_letterbox_placement_round_trip() -> None:
    wide = place(800, 400, 300, 300, "letterbox")
    assert wide.pixels == (0, 75, 300, 150)
    # The frame's full extent in model coordinates maps back to [0, 1].
    assert wide.to_frame((0.0, 0.25, 1.0, 0.75)) == pytest.approx((0.0, 0.0, 1.0, 1.0))
    assert wide.to_frame((0.5, 0.0, 0.6, 0.1)) == pytest.approx((0.5, 0.0, 0.6, 0.0))


@pytest.mark.parametrize("mode", ["stretch", "letterbox"])
def test_fill_input_turns_a_bgr_frame_into_the_rgb_model_input(mode: str) -> None:
    import cv2

    from edgecam.detect.preprocess import fill_input, make_scratch

    bgr = np.zeros((240, 320, 3), np.uint8)
    bgr[:, :160] = (255, 0, 0)  # blue on the left
    bgr[:, 160:] = (0, 0, 255)  # red on the right
    placement = place(320, 240, 300, 300, mode)  # type: ignore[arg-type]
    target = np.full((300, 300, 3), 7, np.uint8)
    fill_input(bgr, target, placement, make_scratch(placement))
    x, y, w, h = placement.pixels
    inside = target[y : y + h, x : x + w]
    expected = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (w, h))
    assert np.array_equal(inside, expected)
    assert tuple(inside[h // 2, 10]) == (0, 0, 255)  # blue, now last
    assert tuple(inside[h // 2, w - 10]) == (255, 0, 0)  # red, now first
    if mode == "letterbox":
        assert y > 0 and not target[:y].any() and not target[y + h :].any()
