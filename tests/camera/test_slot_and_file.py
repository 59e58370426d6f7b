"""The latest-frame slot and the file and image sources."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from edgecam.camera.file import FileSource, FileSourceConfig
from edgecam.camera.image import ImageSource, ImageSourceConfig
from edgecam.camera.slot import LatestFrameSlot
from edgecam.errors import CameraError
from edgecam.types import Frame


def frame(seq: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), seq, float(seq), 0.0, "cam")


def test_newest_frame_wins_and_drops_are_counted() -> None:
    slot = LatestFrameSlot()
    for seq in range(3):
        slot.put(frame(seq))
    taken = slot.take(0)
    assert taken is not None and taken.seq == 2
    assert slot.dropped == 2 and slot.delivered == 1
    assert slot.take(0) is None


def test_lossless_slot_waits_for_the_consumer() -> None:
    slot = LatestFrameSlot(lossless=True)
    seen: list[int] = []

    def produce() -> None:
        for seq in range(20):
            slot.put(frame(seq))
        slot.close()

    producer = threading.Thread(target=produce)
    producer.start()
    while not slot.closed:
        got = slot.take(1.0)
        if got is not None:
            seen.append(got.seq)
    producer.join()
    assert seen == list(range(20)) and slot.dropped == 0


def test_a_lossless_slot_holds_a_few_frames_then_the_producer_waits() -> None:
    slot = LatestFrameSlot(lossless=True, depth=3)
    for seq in range(3):
        slot.put(frame(seq))  # returns at once: room for three
    blocked = threading.Thread(target=slot.put, args=(frame(3),))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # the fourth waits for the consumer
    first = slot.take(0)
    blocked.join(2.0)
    assert not blocked.is_alive() and first is not None and first.seq == 0
    assert [f.seq for f in iter(lambda: slot.take(0), None)] == [1, 2, 3]
    assert slot.dropped == 0 and slot.delivered == 4


def test_file_source_reads_bgr_frames_and_ends(data_dir: Path, tmp_path: Path) -> None:
    import cv2

    clip = tmp_path / "three.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    for _ in range(3):
        writer.write(np.full((48, 64, 3), (255, 0, 0), np.uint8))  # blue in BGR
    writer.release()
    source = FileSource("cam", FileSourceConfig(path=clip, pace="fast"))
    source.open()
    frames = [source.read() for _ in range(4)]
    source.close()
    assert source.nominal_fps == 10.0
    assert frames[3] is None
    first = frames[0]
    assert first is not None and first.shape == (48, 64, 3)
    assert first[..., 0].mean() > 200 and first[..., 2].mean() < 50  # BGR: blue is first


@pytest.mark.parametrize("threads", [1, 2, 0])
def test_file_source_decodes_with_the_configured_threads(threads: int) -> None:
    import cv2

    from edgecam import bundled

    config = FileSourceConfig(path=bundled.demo_clip(), pace="every", decode_threads=threads)
    source = FileSource("cam", config)
    source.open()
    try:
        asked = source._cap.get(cv2.CAP_PROP_N_THREADS)
        frames = [source.read() for _ in range(5)]
    finally:
        source.close()
    # 0 is FFmpeg's own choice: one thread per core.
    assert asked == (threads or os.cpu_count())
    assert all(f is not None and f.shape == (576, 768, 3) for f in frames)


def test_one_decoder_thread_is_the_default_and_bad_counts_are_refused(tmp_path: Path) -> None:
    assert FileSourceConfig(path=tmp_path / "a.mp4").decode_threads == 1
    with pytest.raises(ValueError, match="decode_threads"):
        FileSourceConfig(path=tmp_path / "a.mp4", decode_threads=-1)


def test_file_source_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="not found"):
        FileSource("cam", FileSourceConfig(path=tmp_path / "none.avi")).open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(CameraError, match="cannot decode"):
        FileSource("cam", FileSourceConfig(path=junk)).open()


def test_image_source_presents_images_once(data_dir: Path) -> None:
    config = ImageSourceConfig(paths=[data_dir / "dog.jpg", data_dir / "chelsea.png"], fps=100)
    source = ImageSource("stills", config)
    source.open()
    shapes = [img.shape if (img := source.read()) is not None else None for _ in range(3)]
    assert shapes[0] == (576, 768, 3) and shapes[1] is not None and shapes[2] is None


def write_clip(path: Path, frames: int, fps: float) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 20, np.uint8))
    writer.release()
    return path


def test_frames_of_a_file_carry_video_time_across_loops(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from edgecam.camera.capture import CaptureThread

    start = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)
    clip = write_clip(tmp_path / "five.avi", 5, 25.0)
    config = FileSourceConfig(path=clip, pace="fast", loop=True, start=start)
    slot, stop = LatestFrameSlot(lossless=True), threading.Event()
    capture = CaptureThread(FileSource("cam", config), slot, stop, threading.Event())
    capture.start()
    frames = [slot.take(5.0) for _ in range(12)]
    stop.set()
    capture.join(5.0)
    times = [f.mono for f in frames if f is not None]
    # 25 fps, and the second pass through the file goes on where the first ended.
    assert times == pytest.approx([i / 25.0 for i in range(12)], abs=1e-6)
    assert [f.wall - start.timestamp() for f in frames if f is not None] == pytest.approx(times)


def test_video_clock_uses_timestamps_and_never_goes_back() -> None:
    from edgecam.camera.file import VideoClock

    clock = VideoClock(10.0)
    got = [clock.tick(ms) for ms in (0.0, 100.0, 100.0, 250.0, None, 50.0)]
    assert got == pytest.approx([0.0, 0.1, 0.2, 0.25, 0.35, 0.45])
    clock.rewind()
    assert clock.tick(0.0) == pytest.approx(0.55)


def test_a_file_starts_at_its_modification_time_by_default(tmp_path: Path) -> None:
    import os

    clip = write_clip(tmp_path / "two.avi", 2, 10.0)
    os.utime(clip, (1_700_000_000.0, 1_700_000_000.0))
    source = FileSource("cam", FileSourceConfig(path=clip))
    source.open()
    source.read()
    source.read()
    source.close()
    assert source.start_wall == 1_700_000_000.0 and source.frame_time == pytest.approx(0.1)
    with pytest.raises(ValueError, match="timezone"):
        FileSourceConfig(path=clip, start="2026-05-01T22:00:00")  # type: ignore[arg-type]
