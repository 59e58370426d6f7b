"""The tracker: stable ids, confirmation, ageing, history, fast movers, labels."""

from __future__ import annotations

from edgecam.track.config import TrackerConfig
from edgecam.track.tracker import Tracker
from edgecam.types import Detection


def person(x: float, y: float = 0.5, score: float = 0.8, label: str = "person") -> Detection:
    return Detection(label, 0, score, (x, y, x + 0.1, y + 0.3))


def test_two_walkers_keep_their_ids_while_passing() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    ids: list[tuple[int, int]] = []
    for i in range(20):
        a, b = person(0.1 + 0.03 * i, 0.2), person(0.7 - 0.03 * i, 0.6)
        tracks = tracker.update(i * 0.1, [b, a] if i % 2 else [a, b])
        by_y = sorted(tracks, key=lambda t: t.box[1])
        ids.append((by_y[0].id, by_y[1].id))
    assert set(ids) == {(1, 2)}


def test_confirmation_after_min_hits_and_drop_after_max_age() -> None:
    tracker = Tracker(TrackerConfig(min_hits=3, max_age=1.0))
    states = [tracker.update(t, [person(0.2)])[0].confirmed for t in (0.0, 0.1, 0.2)]
    assert states == [False, False, True]
    assert [t.id for t in tracker.update(1.2, [])] == [1]  # 1.0 s unseen: still kept
    assert tracker.update(1.3, []) == []


def test_history_scores_and_zones_bookkeeping() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, history=3))
    for i, score in enumerate((0.9, 0.5, 0.6, 0.7)):
        (track,) = tracker.update(i * 0.1, [person(0.2 + 0.01 * i, score=score)])
    assert list(track.scores) == [0.5, 0.6, 0.7]
    assert track.median_score == 0.6
    assert [t for t, _ in track.history] == [0.1, 0.2, 0.30000000000000004]
    assert track.first_seen == 0.0 and track.last_seen == 0.30000000000000004
    assert track.hits == 4 and track.seen_now


def test_fast_mover_matched_by_prediction_and_distance() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    # 0.08 per frame on a 0.1 wide box: little overlap frame to frame, none at low fps.
    for i in range(10):
        tracks = tracker.update(i * 0.2, [person(0.05 + 0.08 * i)])
    assert [t.id for t in tracks] == [1]


def test_labels_are_not_mixed_and_lost_tracks_come_back() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, max_age=2.0))
    tracker.update(0.0, [person(0.2)])
    tracks = tracker.update(0.1, [person(0.2, label="dog")])
    assert sorted((t.id, t.label, t.seen_now) for t in tracks) == [
        (1, "person", False), (2, "dog", True),
    ]  # fmt: skip
    tracks = tracker.update(1.5, [person(0.21)])
    assert [(t.id, t.seen_now) for t in tracks if t.label == "person"] == [(1, True)]
