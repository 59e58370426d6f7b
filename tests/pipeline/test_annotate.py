"""The one annotator (snapshots and latest frames), and the pipeline handing snapshots to sinks."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import cv2
import numpy as np

from edgecam.config.models import CameraConfig, Config
from edgecam.detect.detector import Detector
from edgecam.event import Event
from edgecam.pipeline.annotate import PALETTE, bgr, place_labels, render_snapshot, to_pixel
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from edgecam.types import Detection, Frame
from tests.helpers import DATA

CAMERA = CameraConfig.model_validate(
    {
        "source": {"type": "file", "path": "x.avi"},
        "zones": {"z": {"polygon": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]}},
        "lines": {"l": {"points": [[0.5, 0.0], [0.5, 1.0]]}},
    }
)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image)


def event(**fields: object) -> Event:
    base: dict[str, object] = {
        "id": "x", "type": "start", "rule": "r", "camera": "c", "ts": "t", "frame_seq": 1,
        "label": "person", "score": 0.9, "box": (0.25, 0.25, 0.75, 0.75), "track_id": 3,
    }  # fmt: skip
    return Event(**{**base, **fields})  # type: ignore[arg-type]


def test_render_draws_box_and_zone() -> None:
    frame = Frame(np.zeros((120, 160, 3), np.uint8), 1, 0.0, 0.0, "c")
    jpeg = render_snapshot(frame.image, event(zone="z"), CAMERA)
    assert jpeg[:2] == b"\xff\xd8"
    image = decode(jpeg)
    assert image.shape == (120, 160, 3)
    r, g, b = image[30 + 30, 40][::-1]  # left edge of the event box: red-orange
    assert r > 150 and g < 120 and b < 120
    assert image[12, 140].max() > 100  # the zone's top edge (y = 0.1), right of the label
    assert image[100, 80].max() < 60  # nothing drawn inside the empty frame
    line = render_snapshot(frame.image, event(line="l", box=None, direction="in"), CAMERA)
    drawn = decode(line)
    assert drawn[60, 80].max() > 100  # the line down the middle


def test_snapshots_and_the_live_view_put_a_box_on_the_same_pixels() -> None:
    # Two drawings once mapped pixels differently; now there is one mapping.
    from edgecam.web.overlay import draw_overlay

    image = np.zeros((100, 200, 3), np.uint8)
    box = (0.25, 0.5, 0.75, 1.0)
    snap = decode(render_snapshot(image, event(box=None), boxes=[box], quality=100))
    live = draw_overlay(image, None, [Detection("person", 0, 0.9, box)], [])
    left, bottom = to_pixel(box[:2], 200, 100), to_pixel(box[2:], 200, 100)
    assert bottom == (149, 99)  # 1.0 is the last pixel, not one past it
    for drawn in (snap, live):
        assert drawn[75, left[0]].max() > 100  # the box's left edge, half-way down
        assert drawn[75, left[0] - 3].max() < 60


def test_labels_of_a_crowd_do_not_overlap() -> None:
    # Six people side by side: their labels all want the same row.
    wanted = [(10 + 12 * i, 40, 80, 16) for i in range(6)]
    placed = place_labels(wanted, 320, 240)
    rects = [(x, y, 80, 16) for x, y in placed]
    for i, (ax, ay, aw, ah) in enumerate(rects):
        assert 0 <= ax <= 320 - aw and 0 <= ay <= 240 - ah
        for bx, by, bw, bh in rects[i + 1 :]:
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
    assert placed[0] == (10, 40)  # a free place is kept


def test_the_live_view_and_snapshots_share_one_palette() -> None:
    from edgecam.web.overlay import draw_overlay

    image = np.zeros((120, 160, 3), np.uint8)
    live = draw_overlay(image, CAMERA, [], [], layers={"zones"})
    snap = decode(render_snapshot(image, event(zone="z", box=None), CAMERA, quality=100))
    b, g, r = bgr("zone")
    for drawn in (live, snap):  # a point on the zone's right edge (x = 0.9), away from labels
        pb, pg, pr = (int(v) for v in drawn[60, 143])  # the JPEG blurs colours a little
        assert abs(pb - b) < 80 and abs(pg - g) < 80 and abs(pr - r) < 80, (pb, pg, pr)
    assert PALETTE["zone"] != PALETTE["line"] != PALETTE["box"]
    bare = draw_overlay(image, CAMERA, [], [], layers=set())
    assert bare.max() == 0  # every layer off: nothing drawn


class Recorder:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.snapshots: list[tuple[str, str, bytes]] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        self.snapshots.append((camera, rule, jpeg))

    def stats(self, stats: Mapping[str, object]) -> None:
        pass

    def close(self) -> None:
        pass


def test_pipeline_hands_snapshots_to_sinks(detector: Detector) -> None:
    config = Config.model_validate(
        {
            "cameras": {
                "plaza": {
                    "source": {"type": "file", "path": str(DATA / "vtest.avi"), "pace": "every"},
                    "tracker": {"min_hits": 1},
                }
            },
            "rules": [
                {"name": "people", "kind": "presence"},
                {"name": "quiet", "kind": "presence", "snapshot": False},
            ],
        }
    )
    sink = Recorder()
    pipeline = Pipeline(
        config, detector, RuleEngine.from_config(config), [sink], stop=threading.Event(),
        max_frames=3,
    )  # fmt: skip
    pipeline.start()
    pipeline.run()
    assert [(e.type, e.rule) for e in sink.events] == [
        ("start", "people"), ("start", "quiet"), ("end", "people"), ("end", "quiet"),
    ]  # fmt: skip
    assert [(c, r) for c, r, _ in sink.snapshots] == [("plaza", "people")]
    assert sink.snapshots[0][2][:2] == b"\xff\xd8"
