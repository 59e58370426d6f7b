"""A Pi camera's classifier crops come from its main stream at full resolution (shipped fake).

A chickadee 220 px wide in a 1920x1080 main stream is 34 px wide (stretched) in the 300x300
lores frame: the detector still finds it (regions from main), but a crop of lores is too coarse
to name it; the capture thread's view of the main stream names it.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import cv2
import numpy as np

from edgecam.camera.fake_picamera2 import FakeCameraSystem
from edgecam.classify.crop import crop_rgb
from edgecam.classify.stage import ClassifyStage, load_stage
from edgecam.classify.views import SLACK, view_crop, view_rect
from edgecam.classify.vote import TrackVotes, tally
from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.imaging import read_image
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.track.tracker import Track
from edgecam.types import Detection, Frame, Views
from tests.classify.clip import _background
from tests.helpers import DATA

MAIN = (1920, 1080)
FRAMES = 26


def write_feeder(path: Path, width: int = 220) -> Path:
    """A chickadee ``width`` px wide arriving in a 1920x1080 view and creeping right."""
    photo = read_image(DATA / "bird.bmp")
    height = round(photo.shape[0] * width / photo.shape[1])
    bird = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
    background = cv2.resize(_background(), MAIN)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, MAIN)
    for index in range(FRAMES + 4):
        frame = background.copy()
        if index >= 5:  # an empty view first: nothing to classify, nothing cut
            x = 900 + 6 * index
            frame[400 : 400 + height, x : x + width] = bird
        writer.write(frame)
    writer.release()
    return path


def _config() -> Config:
    return Config.model_validate({
        "cameras": {"feeder": {
            "source": {"type": "picamera2", "size": list(MAIN), "fps": 10},
            "tracker": {"min_hits": 1},
            "motion": {"enabled": True},
            # Regions of 600 px (the default elsewhere), as this contrast was built on: with the
            # main stream's default (0.75, the bird in a square of its own) the detector boxes
            # it tighter, and a crop of lores then names it too.
            "regions": {"size": 2},
        }},
        "rules": [{"name": "visits", "kind": "presence", "labels": ["bird"]}],
        "classify": [{"name": "birds", "labels": ["bird"], "budget": 1.0}],
    })  # fmt: skip


def _lores_vote(stage: ClassifyStage, frame: Frame, track: Track) -> str | None:
    """What a crop of the analysed (lores) frame would vote for the same track."""
    entry = stage.entries[0]
    crop = crop_rgb(frame.image, track.box, entry.model.size, entry.config.margin)
    return tally(entry.model.classify(crop), 1, entry.model.classes, entry.config.threshold).label


def test_a_pi_camera_classifies_from_its_main_stream(tmp_path: Path, detector: Detector) -> None:
    # Paced as a sensor: every frame is analysed, the clip plays once (no loop back to empty).
    system = FakeCameraSystem(video=write_feeder(tmp_path / "feeder.avi"), paced=True)
    config = _config()
    stage = load_stage(config.classify, config.model.threads)
    assert stage is not None
    frames: list[Frame] = []
    with mock.patch("edgecam.camera.picamera2.default_api", system.api):
        pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [], classify=stage)
        pipeline.start()
        cam = pipeline.cameras[0]
        try:
            for _ in range(FRAMES - 4):
                pipeline.analyse(1)
                assert cam.last_frame is not None
                frames.append(cam.last_frame)
            stage.close()
            stage.apply()
            tracks = [t for t in pipeline.engine.tracks("feeder") if t.label == "bird"]
        finally:
            pipeline.close()
    assert cam.views and frames[-1].size == (300, 300)  # lores at the model's input
    assert len(tracks) == 1 and tracks[0].sub_label == "Black-capped Chickadee", stage.stats()
    assert _lores_vote(stage, frames[-1], tracks[0]) is None  # lores alone cannot name it
    cut = [f.views for f in frames if f.views is not None and f.views.rects]
    assert frames[0].views is not None and not frames[0].views.rects  # no bird: main untouched
    assert 0 < len(cut) < len(frames) // 2  # only while a crop is wanted
    for views in cut:
        assert views.size == MAIN
        for (x0, _, x1, _), image in zip(views.rects, views.images, strict=True):
            # The square at under twice the classifier's input (224) plus slack, never the whole
            # main stream.
            assert x1 - x0 < MAIN[0] // 2 and max(image.shape[:2]) < 2 * 224 * (1 + 2 * SLACK)
    assert system.outstanding == 0  # every request buffer went back
    assert system.main_copies <= 1  # the whole main stream: only for the event's snapshot


def test_a_view_holds_the_square_of_the_next_frame_or_none() -> None:
    box = (0.5, 0.4, 0.6, 0.6)  # 192x216 px of 1920x1080: a 259 px square with a 0.1 margin
    rect, scale = view_rect(box, 0.1, 224, MAIN)
    assert rect == (861, 345, 1250, 734) and scale == 1.0  # under 2x the input: copied as is
    assert view_rect((0.4, 0.3, 0.66, 0.76), 0.1, 224, MAIN) == ((568, 123, 1466, 1021), 0.5)
    image = np.zeros((389, 389, 3), np.uint8)
    views = Views(MAIN, (rect,), (image,))
    moved = (0.51, 0.41, 0.61, 0.61)  # a frame later, a little to the right
    got = view_crop(views, moved, 0.1)
    assert got is not None and got[0] is image
    assert (
        all(0.0 <= v <= 1.0 for v in got[1]) and abs(got[1][0] - (0.51 * 1920 - 861) / 389) < 1e-9
    )
    assert view_crop(views, (0.7, 0.4, 0.8, 0.6), 0.1) is None  # moved out: a later frame
    assert view_crop(Views(MAIN, (), ()), box, 0.1) is None


def test_a_frame_without_a_view_for_the_track_waits_for_a_later_one() -> None:
    """No fallback to the coarse analysed frame: the track is not charged a run, and min_box
    counts pixels of the main stream (a box 15 px tall in lores is 54 px in main)."""
    config = _config()
    stage = load_stage(config.classify, config.model.threads)
    assert stage is not None
    track = Track(1, Detection("bird", 15, 0.9, (0.5, 0.4, 0.52, 0.45)), 0.0, 10)
    track.confirmed = True
    lores = np.zeros((300, 300, 3), np.uint8)
    frame = Frame(lores, 1, 0.0, 1e9, "feeder", views=Views(MAIN, (), ()))
    assert stage.wanted(frame, [track]) == (((0.5, 0.4, 0.52, 0.45), 0.1, 224),)
    stage.observe(frame, [track])
    assert stage.tracks == 0 and stage.too_small == 0
    assert isinstance(track.votes, TrackVotes) and track.votes.sent == 0 and not track.votes.pending
    stage.close()
