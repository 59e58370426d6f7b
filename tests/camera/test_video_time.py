"""A recording carries video time: the same clip gives the same events at any speed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgecam.config.models import Config
from edgecam.detect.detector import Detector
from edgecam.event import iso_utc
from edgecam.pipeline.loop import Pipeline
from edgecam.rules.engine import RuleEngine
from tests.camera.fixtures import RecordingSink
from tests.helpers import DATA, cpu_load

SKIP, FRAMES = 60, 60
"""Frames 60-119 of vtest.avi: three crossings of the line, someone on the walkway who leaves."""


@pytest.fixture(scope="module")
def short_vtest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cv2

    path = tmp_path_factory.mktemp("clip") / "vtest-6s.avi"
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (768, 576))
    for _ in range(SKIP):
        capture.grab()
    for _ in range(FRAMES):
        ok, bgr = capture.read()
        assert ok
        writer.write(bgr)
    writer.release()
    capture.release()
    return path


def config(clip: Path) -> Config:
    """The issue's configuration: every frame, a motion gate, a line and a zone presence."""
    return Config.model_validate(
        {
            "cameras": {
                "plaza": {
                    "source": {"type": "file", "path": str(clip), "pace": "every",
                               "start": "2026-05-01T22:00:00Z"},
                    "motion": {"enabled": True, "max_interval": "1s"},
                    "lines": {"crossing": {"points": [[0.45, 0.25], [0.45, 0.65]]}},
                    "zones": {"walkway": {"polygon": [[0.0, 0.3], [0.42, 0.3], [0.42, 0.62],
                                                      [0.0, 0.62]]}},
                }
            },
            "rules": [
                {"name": "gate", "kind": "line", "line": "crossing"},
                {"name": "walkway", "kind": "presence", "zone": "walkway",
                 "min_duration": "2s", "off_delay": "2s"},
            ],
        }
    )  # fmt: skip


def events_of(clip: Path, detector: Detector) -> list[dict[str, object]]:
    """The events of one run of the pipeline, without their ids (unique by design)."""
    cfg = config(clip)
    sink = RecordingSink()
    pipeline = Pipeline(cfg, detector, RuleEngine.from_config(cfg), [sink])
    pipeline.start()
    pipeline.run()
    assert pipeline.stats.analysed + pipeline.cameras[0].still == FRAMES
    # Ids are unique per run: an end names its start by the start's place in the list instead.
    where = {e.id: n for n, e in enumerate(sink.events)}
    return [
        {k: where[str(v)] if k == "start_id" else v for k, v in e.to_json().items() if k != "id"}
        for e in sink.events
    ]


def test_a_recording_gives_the_same_events_under_a_competing_load(
    short_vtest: Path, detector: Detector
) -> None:
    quiet = events_of(short_vtest, detector)
    with cpu_load():
        loaded = events_of(short_vtest, detector)
    assert loaded == quiet
    kinds = {(e["rule"], e["type"]) for e in quiet}
    assert {("gate", "count"), ("walkway", "start"), ("walkway", "end")} <= kinds
    # Event times are the recording's start plus its video time (10 fps).
    start = datetime(2026, 5, 1, 22, 0, tzinfo=UTC).timestamp()
    for event in quiet:
        assert event["ts"] == iso_utc(start + int(str(event["frame_seq"])) / 10.0)
