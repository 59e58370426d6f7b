"""The classification stage on real crops: the vote lands on the track, the CPU budget holds."""

from __future__ import annotations

import time

from edgecam.classify.config import ClassifierConfig
from edgecam.classify.model import Classifier
from edgecam.classify.stage import SHARED_CORE_BUDGET, ClassifyStage, Entry, default_budget
from edgecam.classify.vote import TrackVotes
from edgecam.imaging import read_image
from edgecam.track.tracker import Track
from edgecam.types import Box, Detection, Frame, Image
from tests.helpers import DATA

BIRD_BOX = (0.0697, 0.2402, 0.9373, 0.912)


def _stage(budget: float) -> ClassifyStage:
    config = ClassifierConfig(name="birds")
    model = Classifier(config.model_file(), config.classes_file())
    return ClassifyStage([Entry(config, model, budget)])


def _track(track_id: int, box: tuple[float, float, float, float] = BIRD_BOX) -> Track:
    track = Track(track_id, Detection("bird", 15, 0.98, box), 0.0, 10)
    track.confirmed = True
    return track


def _frame(t: float) -> Frame:
    return Frame(read_image(DATA / "bird.bmp"), 1, t, 1e9 + t, "feeder")


def _wait_idle(stage: ClassifyStage) -> None:
    deadline = time.monotonic() + 30
    while stage.entries[0].busy and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_live_camera_gets_one_crop_at_a_time_within_the_budget() -> None:
    stage = _stage(budget=0.01)
    first, second = _track(1), _track(2, (0.1, 0.3, 0.9, 0.9))
    stage.observe(_frame(0.0), [first, second])
    assert stage.tracks == 1  # one crop in flight for the classifier
    _wait_idle(stage)
    entry = stage.entries[0]
    assert entry.next_at > time.monotonic()  # the crop took t: wait 99 t before the next
    stage.observe(_frame(1.0), [first, second])
    assert stage.tracks == 1 and stage.runs == 1
    assert stage.apply() == 1
    assert first.sub_label == "Black-capped Chickadee" and first.sub_scientific is not None
    assert second.sub_label is None
    entry.next_at = 0.0  # the wait is over: the track classified least goes next
    stage.observe(_frame(2.0), [first, second])
    _wait_idle(stage)
    assert stage.tracks == 2 and isinstance(second.votes, TrackVotes) and second.votes.runs == 1
    stage.close()


def test_a_recording_settles_every_crop_of_the_frame_before_the_rules() -> None:
    stage = _stage(budget=0.01)
    tracks = [_track(1), _track(2, (0.1, 0.3, 0.9, 0.9))]
    stage.observe(_frame(0.0), tracks, settle=True)
    assert stage.apply(settle=True) == 2  # no budget, no wait between crops: both voted
    assert [t.sub_label for t in tracks] == ["Black-capped Chickadee"] * 2
    stage.close()


def test_the_default_budget_takes_a_core_only_when_one_is_spare() -> None:
    assert default_budget(2, cores=4) == 1.0  # a Pi 4 or 5: the detector on 2 cores
    assert default_budget(2, cores=2) == SHARED_CORE_BUDGET
    assert default_budget(3, cores=4) == SHARED_CORE_BUDGET


def test_the_crop_source_hook_gives_the_image_to_crop() -> None:
    seen: list[int] = []

    def main_stream(frame: Frame, box: Box, margin: float) -> tuple[Image, Box]:
        seen.append(frame.seq)
        return read_image(DATA / "bird.bmp"), box  # a larger stream would go here

    stage = ClassifyStage(_stage(1.0).entries, crop_source=main_stream)
    track = _track(1)
    stage.observe(Frame(read_image(DATA / "dog.jpg"), 7, 0.0, 1e9, "feeder"), [track], settle=True)
    stage.apply(settle=True)
    assert seen == [7] and track.sub_label == "Black-capped Chickadee"
    stage.close()
