"""Stationary objects: marked after a while, kept through missed detections, filtered by rules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.track.config import StationaryConfig, TrackerConfig
from edgecam.track.tracker import Tracker
from edgecam.types import Detection
from tests.camera.fixtures import RecordingSink
from tests.helpers import DATA
from tests.rules.scripted import brief, engine, every, obj, run


def stationary_tracker(**stationary: object) -> Tracker:
    config = StationaryConfig.model_validate({"after": 3.0, "keep": 20.0, **stationary})
    return Tracker(TrackerConfig(min_hits=1, max_age=1.0, stationary=config))


def test_an_object_that_stays_put_becomes_stationary_and_is_kept_while_missed() -> None:
    tracker = stationary_tracker()
    for t in range(4):  # box jitter of a few per cent is staying put
        (track,) = tracker.update(float(t), [obj(0.5 + 0.003 * (t % 2), 0.8)])
    assert track.stationary and track.still_since == 0.0
    assert [t.id for t in tracker.update(20.0, [])] == [1]  # 17 s missed, kept (keep: 20 s)
    (track,) = tracker.update(21.0, [obj(0.5, 0.8)])
    assert track.id == 1 and track.stationary
    (track,) = tracker.update(22.0, [obj(0.6, 0.8)])  # moves off: no longer stationary
    assert track.id == 1 and not track.stationary
    assert tracker.update(23.5, []) == []  # and is dropped after max_age again


def test_a_walker_never_becomes_stationary_and_it_can_be_turned_off() -> None:
    tracker = stationary_tracker()
    tracks = [tracker.update(t * 0.5, [obj(0.1 + 0.02 * t, 0.8)]) for t in range(20)]
    assert not any(track.stationary for found in tracks for track in found)
    tracker = stationary_tracker(enabled=False)
    found = [tracker.update(float(t), [obj(0.5, 0.8)]) for t in range(10)]
    assert not found[-1][0].stationary


ZONE = {"zones": {"bay": {"polygon": [[0.3, 0.5], [0.7, 0.5], [0.7, 1.0], [0.3, 1.0]]}}}
STATIONARY = {"stationary": {"after": "3s", "keep": "30s"}}


def flicker() -> list[tuple[float, Sequence[Detection]]]:
    """An object parked in the bay whose detection is missing for 5 s at a time."""
    car = [obj(0.5, 0.8)]
    script = every(1.0, 8.0, car) + every(1.0, 13.0, [], 8.0) + every(1.0, 16.0, car, 13.0)
    return script + every(1.0, 21.0, [], 16.0) + every(1.0, 24.0, car, 21.0)


@pytest.mark.parametrize(
    ("stationary", "expected"),
    [
        # In the zone from frame 1 (2 inertia frames), present for min_duration at frame 2.
        ("include", [("start", 2)]),
        ("only", [("start", 4)]),  # stationary from 3 s on
        ("exclude", [("start", 2), ("end", 4)]),  # stationary, so excluded, from 3 s on
    ],
)
def test_presence_with_stationary_objects(stationary: str, expected: list[tuple[str, int]]) -> None:
    rule = {"name": "bay", "kind": "presence", "zone": "bay", "stationary": stationary,
            "min_duration": "1s", "off_delay": "2s"}  # fmt: skip
    eng = engine([rule], ZONE, **STATIONARY)
    assert brief(run(eng, flicker())) == expected


def test_without_stationary_the_flickering_object_restarts_presence() -> None:
    rule = {"name": "bay", "kind": "presence", "zone": "bay", "off_delay": "2s"}
    eng = engine([rule], ZONE, stationary={"enabled": False}, max_age="2s")
    types = [t for t, _ in brief(run(eng, flicker()))]
    assert types == ["start", "end", "start", "end", "start"]


def test_dwell_only_takes_stationary_objects_when_asked() -> None:
    rule = {"name": "parked", "kind": "dwell", "zone": "bay", "min_dwell": "2s"}
    walker = [(float(t), [obj(0.35 + 0.03 * t, 0.8)]) for t in range(10)]  # 3 % a second
    moving = run(engine([{**rule, "stationary": "exclude"}], ZONE, **STATIONARY), walker)
    still = run(engine([{**rule, "stationary": "only"}], ZONE, **STATIONARY), walker)
    assert brief(moving)[:1] == [("start", 2)] and still == []
    parked = run(engine([{**rule, "stationary": "only"}], ZONE, **STATIONARY), flicker())
    assert brief(parked) == [("start", 3)]


# A real clip: a man walks up (vtest.avi frames 516-524), then stands still (frame 524 repeated),
# twice hidden for 3 s (blurred out: the detector loses him) and seen again.
FPS = 10.0
HIDDEN = [(6.0, 9.0), (13.0, 16.0)]
LENGTH = 20.0
MAN = (0.55, 0.70, 0.69, 1.0)


@pytest.fixture(scope="module")
def standing_man(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cv2

    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 516)
    walking = [capture.read()[1] for _ in range(9)]
    capture.release()
    still = walking[-1]
    h, w = still.shape[:2]
    x0, y0, x1, y1 = (round(v * s) for v, s in zip(MAN, (w, h, w, h), strict=True))
    hidden = still.copy()
    hidden[y0:y1, x0:x1] = cv2.GaussianBlur(hidden[y0:y1, x0:x1], (0, 0), 25)
    path = tmp_path_factory.mktemp("clip") / "standing.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (w, h))
    for i in range(round(LENGTH * FPS)):
        t = i / FPS
        gone = any(a <= t < b for a, b in HIDDEN)
        writer.write(walking[i] if i < len(walking) else hidden if gone else still)
    writer.release()
    return path


def presence_events(clip: Path, detector: Detector, stationary: bool) -> list[tuple[str, int]]:
    config = Config.model_validate(
        {
            "cameras": {"plaza": {
                "source": {"type": "file", "path": str(clip), "pace": "every"},
                "fps": 2,
                "zones": {"spot": {"polygon": [[0.5, 0.6], [0.75, 0.6], [0.75, 1.0], [0.5, 1.0]]}},
                "tracker": {"stationary": {"enabled": stationary, "after": "3s"}},
            }},
            "rules": [{"name": "spot", "kind": "presence", "zone": "spot", "min_duration": "1s",
                       "off_delay": "2s"}],
        }
    )  # fmt: skip
    sink = RecordingSink()
    pipeline = Pipeline(config, detector, RuleEngine.from_config(config), [sink])
    pipeline.start()
    pipeline.run()
    return [(e.type, e.frame_seq) for e in sink.events]


def test_a_man_who_stops_and_stays_is_present_once_while_his_detection_comes_and_goes(
    standing_man: Path, detector: Detector
) -> None:
    kept = presence_events(standing_man, detector, stationary=True)
    assert [t for t, _ in kept] == ["start", "end"]
    assert kept[1][1] >= (LENGTH - 1) * FPS  # ended only by the end of the clip
    # The same clip without stationary objects: he is lost in each gap and found again.
    lost = presence_events(standing_man, detector, stationary=False)
    assert [t for t, _ in lost] == ["start", "end"] * 3
