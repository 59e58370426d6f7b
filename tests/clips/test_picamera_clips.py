"""Clips from the Pi camera's own H.264 encoder (the fake honours picamera2's encoder contract)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edgecam.camera.fake_picamera2 import FakeCameraSystem
from edgecam.camera.picamera2 import Picamera2Source, Picamera2SourceConfig
from edgecam.clips.config import RuleClipConfig
from edgecam.clips.writer import ClipResult
from edgecam.event import Event, EventType, iso_utc
from edgecam.imaging import read_image
from edgecam.types import Frame
from tests.clips.drive import recorder
from tests.clips.media import probe

CLIP = RuleClipConfig(pre=0.5, post=0.5, max=10.0)


def _record(source: Picamera2Source, tmp_path: Path, reads: int = 40) -> ClipResult:
    """Read ``reads`` frames, an event from the 10th to the 20th; the clip that comes out."""
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, CLIP)
    tap = rec.tap("cam", source)
    assert tap is not None and tap.mode == "encoder"
    source.open()
    try:
        for index in range(reads):
            image = source.read()
            frame = Frame(image, index, time.monotonic(), time.time(), "cam")
            tap.frame(frame)
            if index in (10, 20):
                kind: EventType = "start" if index == 10 else "end"
                event = Event("e1", kind, "walk", "cam", iso_utc(frame.wall), index, track_id=1)
                rec.on_events(frame, [event])
            time.sleep(0.03)
    finally:
        source.close()
        rec.close()
    (result,) = results
    return result


def test_the_pi_cameras_encoder_fills_the_ring_and_clips_are_not_re_encoded(
    data_dir: Path, tmp_path: Path
) -> None:
    system = FakeCameraSystem(scene=read_image(data_dir / "dog.jpg"))
    config = Picamera2SourceConfig(size=(640, 480), lores=(320, 240), fps=30)
    result = _record(Picamera2Source("pi", config, api=system.api()), tmp_path)
    calls = [name for name, _ in system.calls]
    # As picamera2's start_recording: the encoder on the main stream, started before the camera.
    assert calls.index("start_encoder") < calls.index("start") and "stop_encoder" in calls
    assert dict(system.calls)["start_encoder"] == "main"
    assert result.path is not None, result.error
    clip = probe(result.path)
    assert (clip.codec, clip.width, clip.height) == ("h264", 640, 480)  # the main stream's size
    assert result.info()["reencoded"] is False
    assert clip.keyframes[0] == 0 and len(clip.times) == result.frames >= 10
    assert clip.times == sorted(clip.times) and clip.times[0] == 0.0


@pytest.mark.picamera
def test_a_real_pi_camera_gives_h264_clips(tmp_path: Path) -> None:
    config = Picamera2SourceConfig(size=(1280, 720), lores=(320, 240), fps=15)
    result = _record(Picamera2Source("pi", config), tmp_path, reads=60)
    assert result.path is not None, result.error
    clip = probe(result.path)
    assert (clip.codec, clip.width, clip.height) == ("h264", 1280, 720)
    assert len(clip.times) == result.frames
