"""Clips from a real H.264 recording (remuxed) and from the demo clip (encoded): what they cover."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import pytest

from edgecam.bundled import demo_clip
from edgecam.camera.av import AvSource, AvSourceConfig
from edgecam.camera.file import FileSource, FileSourceConfig
from edgecam.clips.config import ClipsConfig, EncodeConfig, RuleClipConfig
from edgecam.clips.writer import ClipResult
from tests.clips.drive import play, recorder
from tests.clips.media import GOP, probe, write_h264

CLIP = RuleClipConfig(pre=1.0, post=1.0, max=60.0)
START, END = 30, 60
"""Frames of the event's start and end: 3.0 s and 6.0 s; the clip should cover 2.0 s to 7.0 s."""
EXPECTED_TIMES = [round(i * 0.1, 3) for i in range(51)]


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12 s H.264 recording of the demo clip, one keyframe a second."""
    return write_h264(tmp_path_factory.mktemp("h264") / "demo264.mp4")


def _source(path: Path) -> AvSource:
    return AvSource("cam", AvSourceConfig(path=path, pace="fast"))


def test_h264_clip_is_remuxed_and_covers_pre_event_post(h264: Path, tmp_path: Path) -> None:
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, CLIP)
    events = play(_source(h264), rec, {START: "start", END: "end"})
    rec.close()
    (result,) = results
    assert result.path is not None and result.job.truncated == []
    assert events[1].clip == {
        "id": "e30",
        "path": str(result.path),
        "url": "http://127.0.0.1:8080/api/events/e30/clip.mp4",
    }
    clip, source = probe(result.path), probe(h264)
    # pre + event + post = 2.0 s .. 7.0 s; it starts on the keyframe at 2.0 s (frame 20).
    assert [round(t, 3) for t in clip.times] == EXPECTED_TIMES
    assert clip.keyframes == [0, 10, 20, 30, 40, 50]
    # No re-encoding: the same codec parameters and byte-for-byte the source's packets.
    assert (clip.codec, clip.width, clip.height, clip.profile) == (
        source.codec, source.width, source.height, source.profile)  # fmt: skip
    assert clip.extradata == source.extradata
    assert _digest(clip.packets) == _digest(source.packets[20:71])
    info = result.info()
    assert info["reencoded"] is False and info["codec"] == "h264" and info["frames"] == 51


def test_demo_clip_is_encoded_and_covers_pre_event_post(tmp_path: Path) -> None:
    results: list[ClipResult] = []
    config = ClipsConfig(encode=EncodeConfig(keyframe_interval=1.0, max_width=640))
    rec = recorder(tmp_path, results, CLIP, config)
    source = FileSource("cam", FileSourceConfig(path=demo_clip(), pace="fast"))
    play(source, rec, {START: "start", END: "end"})
    rec.close()
    (result,) = results
    assert result.path is not None and result.job.truncated == []
    clip = probe(result.path)
    # The demo clip is MPEG-4 Part 2: there is nothing H.264 to keep, so it was encoded, scaled
    # to encode.max_width, with a keyframe every second of video.
    assert (clip.codec, clip.width, clip.height) == ("h264", 640, 480)
    assert result.info()["reencoded"] is True
    assert [round(t, 3) for t in clip.times] == EXPECTED_TIMES
    assert clip.keyframes == [0, 10, 20, 30, 40, 50]


def test_camera_dropped_mid_clip_gives_a_shorter_clip_that_says_so(
    h264: Path, tmp_path: Path
) -> None:
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, CLIP)
    holder: list[AvSource] = []
    source = _source(h264)
    holder.append(source)

    def drop(index: int) -> None:
        if index == 45:
            rec.cameras["cam"].lost()  # what the capture loop does when a read fails

    play(source, rec, {START: "start", END: "end"}, on_frame=drop)
    rec.close()
    (result,) = results
    assert result.path is not None
    assert result.job.truncated == ["camera dropped mid-clip"]
    clip = probe(result.path)  # a whole, decodable file: 2.0 s up to the drop at 4.5 s
    assert [round(t, 3) for t in clip.times] == EXPECTED_TIMES[:26]


def test_a_ring_too_small_for_a_gop_loses_the_pre_roll_and_says_so(
    h264: Path, tmp_path: Path
) -> None:
    # Each GOP of the 768x576 recording is far larger than 100 kB: the ring never holds a
    # keyframe for long, so the clip can only start at the next keyframe after its start.
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, CLIP, ClipsConfig(buffer_bytes=100_000))
    play(_source(h264), rec, {START: "start", END: "end"})
    rec.close()
    (result,) = results
    assert result.path is not None
    assert len(result.job.truncated) == 1
    assert result.job.truncated[0].startswith("pre-roll ")
    clip = probe(result.path)
    assert clip.keyframes[0] == 0 and len(clip.times) == len(clip.packets)
    assert len(clip.times) < len(EXPECTED_TIMES)
    assert clip.times[-1] == pytest.approx(clip.times[0] + (len(clip.times) - 1) * 0.1)


def test_an_event_longer_than_max_gets_a_clip_that_ends_at_max(h264: Path, tmp_path: Path) -> None:
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, RuleClipConfig(pre=1.0, post=1.0, max=3.0))
    events = play(_source(h264), rec, {START: "start", END: "end"})
    rec.close()
    (result,) = results
    assert result.path is not None
    assert result.job.truncated == ["max length reached (3 s)"]
    assert len(probe(result.path).times) == 31  # 2.0 s .. 5.0 s
    assert events[1].clip is not None and events[1].clip["id"] == "e30"


def test_count_events_get_a_clip_around_them(h264: Path, tmp_path: Path) -> None:
    results: list[ClipResult] = []
    rec = recorder(tmp_path, results, CLIP)
    events = play(_source(h264), rec, {START: "count"})
    rec.close()
    (result,) = results
    assert events[0].clip is not None and result.path is not None
    assert [round(t, 3) for t in probe(result.path).times] == EXPECTED_TIMES[:21]  # 2 s .. 4 s


def _digest(packets: list[bytes]) -> str:
    sha = hashlib.sha256()
    for packet in packets:
        sha.update(packet)
    return sha.hexdigest()


def test_gop_of_the_test_recording(h264: Path) -> None:
    assert probe(h264).keyframes[:3] == [0, GOP, 2 * GOP]
    assert av.open(str(h264)).streams.video[0].codec_context.name == "h264"
