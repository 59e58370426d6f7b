"""The motion gate: what counts as motion, masks, the forced interval, and its effect on events."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from benchmarks.clips import static_then_people
from edgecam.camera.motion import MotionConfig, MotionGate, mask_image
from edgecam.config.models import CameraConfig, Config
from edgecam.detect.detector import Detector
from edgecam.rules.engine import RuleEngine
from edgecam.types import Detection, Frame, Image


def scene(square_at: int | None = None, brightness: int = 100) -> Image:
    """A grey 640x480 frame, optionally with a white 60x60 square at ``x = square_at``."""
    image = np.full((480, 640, 3), brightness, np.uint8)
    if square_at is not None:
        image[300:360, square_at : square_at + 60] = 255
    return image


def test_a_moving_object_is_motion_and_a_still_scene_is_not() -> None:
    gate = MotionGate(MotionConfig(enabled=True))
    assert gate.changed(scene()) == 0.0  # the first frame only seeds the background
    assert gate.changed(scene()) == 0.0
    assert gate.changed(scene(300)) > 0.01
    assert gate.changed(scene(brightness=104)) == 0.0  # slow light changes are not motion


def test_masked_areas_are_ignored() -> None:
    config = MotionConfig(enabled=True, mask=[[(0.4, 0.5), (0.6, 0.5), (0.6, 0.9), (0.4, 0.9)]])
    gate = MotionGate(config)
    gate.changed(scene())
    assert gate.changed(scene(290)) == 0.0  # x 290-350 lies inside the mask
    assert gate.changed(scene(20)) > 0.0
    keep = mask_image(config.mask, 100, 100)
    assert keep is not None and keep[70, 50] == 0 and keep[10, 10] == 255


def test_detector_runs_on_motion_during_hold_and_at_least_every_max_interval() -> None:
    gate = MotionGate(MotionConfig(enabled=True, max_interval=5.0, hold=1.0))
    still = scene()
    decisions = [gate.should_detect(still, t) for t in (0.0, 1.0, 4.9, 5.0, 6.0)]
    assert decisions == [True, False, False, True, False]
    assert gate.should_detect(scene(100), 6.5)  # motion
    assert gate.should_detect(still, 7.0)  # within hold of the motion (the square "left")
    assert not gate.should_detect(still, 7.6)
    assert gate.stats.passed == 4 and gate.stats.motion == 1


def test_config_shape_from_the_design() -> None:
    camera = CameraConfig.model_validate(
        {
            "source": {"type": "image", "paths": ["x.jpg"]},
            "motion": {"enabled": True, "max_interval": "5s"},
        }
    )
    assert camera.motion.enabled and camera.motion.max_interval == 5.0
    with pytest.raises(ValidationError):
        MotionConfig.model_validate({"enabled": True, "mask": [[[1.5, 0.0]]]})


class CountingDetector:
    """Counts detector calls: the measure of CPU work in this test (not time)."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.calls = 0

    def detect(self, image: Image) -> list[Detection]:
        self.calls += 1
        return self.detector.detect(image)


def run_rules(
    frames: list[Image], detector: CountingDetector, gate: MotionGate | None
) -> list[tuple[str, int]]:
    config = Config.model_validate({
        "cameras": {"plaza": {"source": {"type": "image", "paths": ["unused.jpg"]}}},
        "rules": [{"name": "people", "kind": "presence", "labels": ["person"], "min_score": 0.5}],
    })  # fmt: skip
    engine = RuleEngine.from_config(config)
    events = []
    frame = None
    for seq, image in enumerate(frames):
        now = seq * 0.1  # a 10 fps camera
        frame = Frame(image, seq, now, 1.7e9 + now, "plaza")
        if gate is None or gate.should_detect(image, now):
            events += engine.process(frame, detector.detect(image))
    assert frame is not None
    events += engine.finish(frame)
    return [(event.type, event.frame_seq) for event in events]


def test_gate_saves_5x_detector_calls_on_a_still_scene_and_misses_no_person(
    detector: Detector,
) -> None:
    still = 60
    frames = list(static_then_people(still=still, moving=30))
    every = CountingDetector(detector)
    expected = run_rules(frames, every, gate=None)
    gated = CountingDetector(detector)
    gate = MotionGate(MotionConfig(enabled=True, max_interval=5.0))
    calls_in_still = 0
    for seq, image in enumerate(frames[:still]):
        if gate.should_detect(image, seq * 0.1):
            calls_in_still += 1
    assert calls_in_still * 5 <= still, calls_in_still
    got = run_rules(frames, gated, MotionGate(MotionConfig(enabled=True, max_interval=5.0)))
    # People appear when the clip starts; the tracker confirms a track after a few hits.
    assert expected[0][0] == "start" and still <= expected[0][1] <= still + 5
    assert got == expected
    assert every.calls == len(frames) and gated.calls < every.calls
