"""Regions of a Pi camera come from its full-resolution main stream (through the shipped fake)."""

from __future__ import annotations

from pathlib import Path
from typing import cast
from unittest import mock

import cv2
import numpy as np
import pytest

from benchmarks.pi_far_people import RECORDING_FRAMES, score, write_recording
from edgecam.camera.fake_picamera2 import FakeCameraSystem
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.detect.regions import region_side
from edgecam.imaging import read_image
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.types import Image


def test_far_people_are_found_on_crops_of_the_main_stream_not_on_lores(
    tmp_path: Path, detector: Detector
) -> None:
    """People 2.5 % of the frame tall: lores (300x300 of 1920x1080) shows them a few pixels
    tall; crops of the main stream at the default size there (225 px squares, enlarged to the
    model's 300; ``size`` unset) find them as full-resolution crops do
    (benchmarks/pi_far_people.py has the table)."""
    recording = write_recording(tmp_path / "far.avi", RECORDING_FRAMES)
    result = score(detector, recording, frames=30, size=None)
    assert result.frames >= 25 and result.robust >= 50, result.as_dict()
    assert result.recall("regions_robust") >= 0.8, result.as_dict()
    assert result.recall("regions") >= 0.7, result.as_dict()
    assert result.recall("lores") <= 0.1, result.as_dict()
    # The cost stays bounded: mostly one crop a frame, the whole frame every fifth.
    assert result.invokes / result.frames < 2.0, result.as_dict()


@pytest.mark.parametrize(("size", "wanted"), [((1280, 720), True), ((1024, 576), False)])
def test_regions_auto_turn_on_when_the_main_stream_is_twice_the_model_input(
    data_dir: Path, detector: Detector, size: tuple[int, int], wanted: bool
) -> None:
    photo = read_image(data_dir / "person.jpg")  # a person small in a wide view
    scene = np.full((720, 1280, 3), 110, np.uint8)
    small = cv2.resize(photo, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    scene[100 : 100 + small.shape[0], 600 : 600 + small.shape[1]] = small
    system = FakeCameraSystem(scene=cast(Image, scene))
    config = Config.model_validate({
        "cameras": {"pi": {
            "source": {"type": "picamera2", "size": list(size)},
            "tracker": {"min_hits": 1},
        }},
        "rules": [{"name": "someone", "kind": "presence", "labels": ["person"]}],
    })  # fmt: skip
    with mock.patch("edgecam.camera.picamera2.default_api", system.api):
        pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [])
        pipeline.start()
        cam = pipeline.cameras[0]
        try:
            assert pipeline.analyse(4) == 4
            frame = cam.last_frame
        finally:
            pipeline.close()
    assert frame is not None and frame.size == (300, 300)  # lores at the model's input
    # Once the person is tracked, the next frames come with a crop of the main stream.
    assert (frame.crops is not None) is wanted
    assert any(d.label == "person" for d in cam.last_detections)
    assert system.outstanding == 0


def test_the_default_region_size_fits_the_source(data_dir: Path, detector: Detector) -> None:
    """Unset, ``regions.size`` is the main stream's (0.75) for a Pi camera and 2 elsewhere; an
    explicit size wins on a Pi camera too."""
    system = FakeCameraSystem(scene=cast(Image, np.full((1080, 1920, 3), 110, np.uint8)))
    pi = {"type": "picamera2", "size": [1920, 1080]}
    config = Config.model_validate({
        "cameras": {
            "pi": {"source": pi},
            "pi_set": {"source": pi, "regions": {"size": 2}},
            "clip": {"source": {"type": "file", "path": str(data_dir / "vtest.avi")}},
        },
    })  # fmt: skip
    assert config.cameras["pi"].regions.size is None  # nothing resolved in the config itself
    with mock.patch("edgecam.camera.picamera2.default_api", system.api):
        pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [])
        try:
            planners = {cam.name: cam.regions for cam in pipeline.cameras}
            mains = {cam.name: cam.main_regions for cam in pipeline.cameras}
        finally:
            pipeline.close()
    assert mains == {"pi": True, "pi_set": True, "clip": False}
    sides = {
        name: region_side(p.config, (1920, 1080), (300, 300))
        for name, p in planners.items()
        if p is not None
    }
    assert sides == {"pi": 225, "pi_set": 600, "clip": 600}  # 0.75, explicit 2, default 2
