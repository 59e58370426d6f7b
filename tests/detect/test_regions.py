"""Detection on regions: planning squares around objects, merging, and real small people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.detect.regions import (
    Plan,
    RegionConfig,
    RegionPlanner,
    detect_crops,
    detect_plan,
    merge,
    plan,
    region_side,
    regions_wanted,
)
from edgecam.geometry import iou
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.types import Box, Crops, Detection, Image
from tests.camera.fixtures import RecordingSink
from tests.helpers import DATA

FRAME = (1536, 1152)
ON = RegionConfig(mode="on")


def test_auto_uses_regions_only_where_objects_would_shrink_by_half() -> None:
    auto = RegionConfig()
    assert regions_wanted(auto, (1920, 1080), (300, 300))
    assert not regions_wanted(auto, (768, 576), (300, 300))  # 1.9 times the input: no gain
    assert not regions_wanted(RegionConfig(mode="off"), (1920, 1080), (300, 300))
    assert regions_wanted(ON, (320, 240), (300, 300))
    assert region_side(auto, (1920, 1080), (300, 300)) == 600
    assert region_side(RegionConfig(size=4), (1920, 1080), (300, 300)) == 1080  # the frame's height


def test_nearby_objects_share_a_square_and_far_ones_get_their_own() -> None:
    people: list[Box] = [
        (0.10, 0.10, 0.12, 0.15),
        (0.15, 0.12, 0.17, 0.17),
        (0.80, 0.80, 0.82, 0.85),
    ]
    passes = plan(ON, FRAME, 600, people, index=1)
    assert len(passes.regions) == 2 and not passes.full_frame
    for box in people:  # every object lies inside one of the squares
        x0, y0, x1, y1 = box[0] * FRAME[0], box[1] * FRAME[1], box[2] * FRAME[0], box[3] * FRAME[1]
        assert any(a <= x0 and b <= y0 and x1 <= c and y1 <= d for a, b, c, d in passes.regions)
    assert all(r[2] - r[0] == r[3] - r[1] == 600 for r in passes.regions)
    assert all(r[0] >= 0 and r[2] <= FRAME[0] and r[3] <= FRAME[1] for r in passes.regions)


def test_full_frame_periodically_for_large_objects_and_beyond_the_budget() -> None:
    small: list[Box] = [(0.1, 0.1, 0.12, 0.15)]
    assert plan(ON, FRAME, 600, small, index=0).full_frame  # every full_frame_every-th frame
    assert plan(ON, FRAME, 600, [], index=1) == Plan((), True)  # nothing to look at
    big = plan(ON, FRAME, 600, [*small, (0.2, 0.1, 0.9, 0.9)], index=1)
    assert len(big.regions) == 1 and big.full_frame
    spread = [(x, y, x + 0.01, y + 0.02) for x in (0.05, 0.35, 0.65, 0.95) for y in (0.05, 0.9)]
    capped = plan(RegionConfig(mode="on", max_regions=3), FRAME, 300, spread, index=1)
    assert len(capped.regions) == 3 and capped.full_frame  # at most 3 + 1 inferences


def test_a_main_stream_gives_an_object_larger_than_a_region_a_square_of_its_own() -> None:
    """Regions cut from a Pi camera's main stream (``grow``): lores is too coarse for an object
    a few times larger than a 225 px region, so it gets a square as large as it needs, which
    holds the motion inside it; elsewhere it is left to the whole frame."""
    main = (1920, 1080)
    bird: Box = (0.5, 0.4, 0.6, 0.5)  # 192x108 px, 288 px wide with its margin
    wing: Box = (0.52, 0.42, 0.55, 0.45)  # motion inside it
    far: Box = (0.1, 0.1, 0.11, 0.13)
    grown = plan(ON, main, 225, [bird, wing, far], index=1, grow=True)
    assert not grown.full_frame
    sides = sorted(r[2] - r[0] for r in grown.regions)
    assert sides == [225, 289] and all(r[2] - r[0] == r[3] - r[1] for r in grown.regions)
    left = plan(ON, main, 225, [bird, wing, far], index=1)
    assert left.full_frame and all(r[2] - r[0] == 225 for r in left.regions)
    huge = plan(ON, main, 225, [(0.0, 0.0, 0.9, 0.9)], index=1, grow=True)
    assert huge.full_frame and not huge.regions  # beyond the frame's height: the whole frame
    both = plan(ON, main, 225, [(0.0, 0.0, 0.9, 0.9), bird], index=1, grow=True)
    assert both.full_frame and [r[2] - r[0] for r in both.regions] == [289]


def test_the_part_of_an_object_a_region_cut_gives_way_to_the_whole_object() -> None:
    """A region over part of an object finds a part touching its side; another pass that saw
    the whole object wins, and a part no other pass saw whole stays."""
    whole_region: Box = (0.45, 0.3, 0.65, 0.6)
    part_region: Box = (0.40, 0.3, 0.56, 0.6)
    lone_region: Box = (0.1, 0.1, 0.2, 0.3)
    images = [np.zeros((300, 300, 3), np.uint8) for _ in range(3)]
    found = {  # per crop, boxes normalised to it
        0: [Detection("bird", 16, 0.9, (0.25, 0.33, 0.75, 0.67))],  # the whole bird
        1: [Detection("bird", 16, 0.9, (0.6, 0.33, 1.0, 0.67))],  # cut by the right side
        2: [Detection("bird", 16, 0.8, (0.5, 0.3, 1.0, 0.6))],  # cut, nothing saw it whole
    }

    def detect(image: Image) -> list[Detection]:
        return found[next(i for i, m in enumerate(images) if m is image)]

    crops = Crops((whole_region, part_region, lone_region), tuple(images), False)
    got = sorted(d.box for d in detect_crops(detect, crops, None))
    assert len(got) == 2
    assert got[0] == pytest.approx((0.15, 0.16, 0.2, 0.22))
    assert got[1] == pytest.approx((0.5, 0.4, 0.6, 0.5), abs=2e-3)


def test_merge_keeps_one_box_per_object_and_people_inside_a_group_box() -> None:
    a = Detection("person", 0, 0.9, (0.10, 0.10, 0.20, 0.40))
    twin = Detection("person", 0, 0.6, (0.11, 0.10, 0.21, 0.41))
    group = Detection("person", 0, 0.95, (0.05, 0.05, 0.45, 0.45))
    dog = Detection("dog", 1, 0.7, (0.10, 0.10, 0.20, 0.40))
    assert merge([twin, a, dog, group]) == [group, a, dog]


def mosaic(frame: int) -> Image:
    """A 2x2 mosaic (1536x1152) of vtest frames: four scenes, each person at a quarter area."""
    import cv2

    quarters = []
    for offset in (0, 200, 400, 600):
        capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame + offset)
        quarters.append(capture.read()[1])
        capture.release()
    return np.vstack([np.hstack(quarters[:2]), np.hstack(quarters[2:])])


def people(detections: list[Detection]) -> list[Box]:
    return [d.box for d in detections if d.label == "person"]


def matched(truth: list[Box], boxes: list[Box]) -> int:
    return sum(any(iou(t, b) >= 0.5 for b in boxes) for t in truth)


def test_regions_find_the_small_people_the_whole_frame_misses(detector: Detector) -> None:
    image = mosaic(100)
    quarters = [image[y : y + 576, x : x + 768] for y in (0, 576) for x in (0, 768)]
    truth = [
        ((x / 1536) + b[0] / 2, (y / 1152) + b[1] / 2, (x / 1536) + b[2] / 2, (y / 1152) + b[3] / 2)
        for (x, y), quarter in zip([(0, 0), (768, 0), (0, 576), (768, 576)], quarters, strict=True)
        for b in people(detector.detect(np.ascontiguousarray(quarter)))
    ]
    assert len(truth) >= 10
    whole = matched(truth, people(detector.detect(image)))
    passes = plan(RegionConfig(mode="on", max_regions=16), FRAME, 600, truth, index=1)
    regions = matched(truth, people(detect_plan(detector.detect, image, passes)))
    assert regions >= 0.8 * len(truth) and whole <= 0.6 * len(truth), (regions, whole, len(truth))


def test_the_pipeline_detects_on_regions_around_tracks(tmp_path: Path, detector: Detector) -> None:
    import cv2

    image = mosaic(100)
    path = tmp_path / "mosaic.png"
    cv2.imwrite(str(path), image)
    source = {"type": "image", "paths": [str(path)], "fps": 10, "loop": True}
    config = Config.model_validate(
        {"cameras": {"m": {"source": source, "regions": {"max_regions": 8}}}}
    )
    pipeline = Pipeline(
        config, detector, RuleEngine.from_config(config), [RecordingSink()], max_frames=3
    )
    pipeline.start()
    pipeline.run()
    cam = pipeline.cameras[0]
    assert cam.regions is not None and cam.regions.passes > 3  # regions after the first frame
    # The tracks found on the first (whole) frame pull in regions that find more people.
    assert len(people(list(cam.last_detections))) > len(people(detector.detect(image)))


@pytest.mark.parametrize("mode", ["off", "auto"])
def test_small_frames_or_off_take_the_usual_whole_frame_path(mode: str) -> None:
    planner = RegionPlanner(RegionConfig(mode=mode), (300, 300))  # type: ignore[arg-type]
    assert planner.next((640, 480), [(0.1, 0.1, 0.2, 0.2)]) is None
    assert planner.passes == 1
