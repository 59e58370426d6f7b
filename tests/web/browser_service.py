"""The service the browser tests run against: the demo camera, a config file the editor may
write, and 200 stored events (real snapshots, one clip) over four past days."""

from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path
from typing import cast

import cv2

from edgecam import bundled
from edgecam.detect.detector import Detector
from edgecam.event import Event
from edgecam.events.media import MediaStore
from edgecam.events.store import EventStore
from edgecam.pipeline.annotate import render_snapshot
from edgecam.types import Image
from tests.clips.media import write_h264
from tests.service.harness import Service, running

CONFIG = """\
# The demo camera, with a config file the editor may write.
device: {{name: browser, timezone: Europe/Berlin}}
cameras:
  demo:
    source: {{type: file, path: {clip}, loop: true, start: "2026-12-06T12:00:00Z"}}  # loops
    lines:
      crossing: {{points: [[0.45, 0.25], [0.45, 0.65]]}}
rules:
  - {{name: person, kind: presence, labels: [person], min_score: 0.5}}
  - {{name: crossing, kind: line, line: crossing, labels: [person]}}
  - {{name: visitors, kind: presence, labels: [dog, cat], min_score: 0.99}}  # never on the clip
events: {{path: {events}}}
http: {{listen: "127.0.0.1:0", allow_config_write: true}}
"""
DAYS = ("2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30")
STORED = 200
PAGE = 24
CLIP_ID = "ev-clip"


def stored_events(root: Path, detector: Detector) -> None:
    """200 events of the never-firing ``visitors`` rule over 4 past days, with real snapshots."""
    capture = cv2.VideoCapture(str(bundled.demo_clip()))
    frames = []
    for _ in range(4):
        for _ in range(20):
            capture.read()
        ok, image = capture.read()
        assert ok
        frames.append(cast(Image, image))
    capture.release()
    found = [detector.detect(frame) for frame in frames]
    store = EventStore(root, 10_000, MediaStore(root, 10**10, 1e12))
    for i in range(STORED):
        day, hour = DAYS[i % 4], 6 + (i * 7) % 12  # 06:00-17:59 UTC: the same day in Berlin
        event_id = CLIP_ID if i == STORED - 1 else f"ev-{i:03d}"
        label = "dog" if (i // 4) % 2 else "cat"  # half of each day's
        collie = i % 10 == 1  # as a classifier names them: on the event
        boxes = [d.box for d in found[i % 4]]
        box = boxes[(i // 4) % len(boxes)] if boxes else (0.4, 0.3, 0.55, 0.8)
        ev = Event(event_id, "start", "visitors", "demo", f"{day}T{hour:02d}:{i % 60:02d}:00.000Z",
                   i, label=label, score=0.8, box=box, track_id=i,
                   sub_label="Border Collie" if collie else None,
                   sub_score=0.91 if collie else None)  # fmt: skip
        store.emit(ev)
        jpeg = render_snapshot(frames[i % 4], ev, boxes=boxes, quality=70)
        store.snapshot("demo", "visitors", jpeg)
    clip = write_h264(root / "demo" / f"{CLIP_ID}.mp4", frames=40)
    store.clip_written(CLIP_ID, clip, {"status": "ready", "duration_s": 4.0, "truncated": []})
    store.close()


class Running:
    """The service under test, which a test may restart (same config, same events store)."""

    def __init__(self, tmp: Path, config: Path) -> None:
        self.tmp, self.config = tmp, config
        self._stack = ExitStack()
        self.svc = self._start()

    def _start(self) -> Service:
        svc = self._stack.enter_context(
            running(self.tmp, ["run", "--config", str(self.config)], None)
        )
        svc.wait_log(r"HTTP endpoint on")
        return svc

    def restart(self) -> None:
        """Stop the service as systemd would (SIGTERM), then start it again."""
        self.svc.signal(signal.SIGTERM)
        self.svc.proc.wait(30)
        self._stack.close()
        self._stack = ExitStack()
        self.svc = self._start()

    def close(self) -> None:
        """Stop it."""
        self._stack.close()
