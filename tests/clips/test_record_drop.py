"""A camera's record stream drops and comes back: detection goes on, the camera says degraded,
and clips resume (from the record stream, at its size) once it is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from edgecam.camera.av import AvSource, AvSourceConfig
from edgecam.camera.capture import CaptureThread, ReconnectPolicy
from edgecam.camera.record import SNAPSHOT_PACKETS, RecordStreamConfig
from edgecam.camera.slot import LatestFrameSlot
from edgecam.clips.config import RuleClipConfig
from edgecam.clips.writer import ClipResult
from edgecam.service.supervisor import ServiceState
from tests.clips.drive import event, recorder
from tests.clips.media import probe, write_h264
from tests.clips.streaming import LiveStream

CLIP = RuleClipConfig(pre=0.5, post=0.5, max=10.0)
SMALL, LARGE = (192, 144), (384, 288)


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """12 s of the demo clip as a tiny detect stream and a larger record stream."""
    root = tmp_path_factory.mktemp("drop")
    return (
        write_h264(root / "small.mp4", frames=120, size=SMALL),
        write_h264(root / "large.mp4", frames=120, size=LARGE),
    )


def _until(done: Callable[[], bool], timeout: float, what: Callable[[], object]) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out: {what()}"
        time.sleep(0.05)


def _camera(detect: str, record: str) -> CaptureThread:
    """The camera's capture thread, not started: detect on ``detect``, record ``record``."""
    main = RecordStreamConfig(url=record, read_timeout=2.0)
    source = AvSource("cam", AvSourceConfig(url=detect, record=main))
    policy = ReconnectPolicy(stall_timeout=5.0, initial_backoff=0.2, max_backoff=0.5)
    stop, ready = threading.Event(), threading.Event()
    return CaptureThread(source, LatestFrameSlot(), stop, ready, policy=policy)


def _service(capture: CaptureThread) -> ServiceState:
    """The service's health as /healthz reports it, over this one camera."""
    camera = SimpleNamespace(name="cam", capture=capture)
    pipeline = SimpleNamespace(cameras=[camera], heartbeat=time.monotonic(), sinks=[])
    state = ServiceState(cast(Any, pipeline), cast(Any, SimpleNamespace(healthy=True)), 30.0)
    state.started = True
    return state


def test_record_stream_drops_detection_goes_on_and_clips_resume(
    streams: tuple[Path, Path], tmp_path: Path
) -> None:
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, CLIP)
    with LiveStream(streams[0]) as small, LiveStream(streams[1]) as large:
        capture = _camera(small.url, large.url)
        source, slot = capture.source, capture.slot
        assert isinstance(source, AvSource)
        tap = rec.tap("cam", source)
        assert tap is not None and tap.mode == "record"
        capture.tap = tap
        capture.start()
        try:

            def health() -> dict[str, object]:
                return capture.health(time.monotonic())

            def record() -> dict[str, object]:
                value = health().get("record")
                assert isinstance(value, dict)
                return value

            _until(lambda: record()["status"] == "running" and len(tap.ring) > 5, 10, health)
            assert health()["status"] == "running"

            large.drop()
            _until(lambda: health()["status"] == "degraded", 5, health)
            # Detection goes on meanwhile: the detect stream keeps delivering frames.
            frames = capture.frames
            _until(lambda: capture.frames >= frames + 10, 5, health)
            assert health()["status"] == "degraded" and record()["status"] == "reconnecting"
            assert "record stream" in str(record()["error"]), record()
            # /healthz: still healthy (detection works), but degraded, naming the camera.
            ok, reason = _service(capture).health()
            assert ok and reason.startswith("degraded: camera cam: record stream down"), reason

            large.restore()
            _until(lambda: health()["status"] == "running" and len(tap.ring) > 10, 10, health)
            assert int(str(record()["reconnects"])) >= 1 and record()["decoded"] == 0

            # A full-size snapshot: the record stream's newest frame, decoded on demand from its
            # newest keyframe (the only frames of it ever decoded).
            image = source.snapshot()
            assert image is not None and image.shape[:2] == (LARGE[1], LARGE[0])
            assert 1 <= int(str(record()["decoded"])) <= SNAPSHOT_PACKETS

            # An event now gets its clip from the record stream again, with its pre-roll.
            frame = slot.take(2.0)
            assert frame is not None and frame.image.shape[:2] == (SMALL[1], SMALL[0])
            rec.on_events(frame, [event("count", frame, "after")])
            _until(lambda: bool(results), 10, lambda: results)
        finally:
            capture.request_stop()
            capture.join(10.0)
            rec.close()
    (result,) = results
    assert result.path is not None and result.error is None, result
    got = probe(result.path)
    assert (got.codec, got.width, got.height) == ("h264", *LARGE)
    assert result.job.template is not None and not result.job.template.encoded_here
    assert result.duration >= CLIP.pre + CLIP.post - 0.15, result
    assert result.job.truncated == [], result.job.truncated
    assert source.decoded >= capture.frames  # only the detect stream was decoded
