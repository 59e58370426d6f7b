"""One camera, two live H.264 streams on loopback: detect on the small one, clips from the large.

The large (record) stream is only demuxed into the clip ring, never decoded: its clips have the
large stream's size, are the camera's own packets (no re-encode), and ``/metrics`` counts no
frame decoded from it.
"""

from __future__ import annotations

import re
import signal
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.clips.media import probe, write_h264
from tests.clips.streaming import LiveStream
from tests.service.harness import running, wait

PRE, POST = 1.0, 1.0
SMALL, LARGE = (384, 288), (768, 576)


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo clip's first 10 s as a small substream and a large main stream."""
    root = tmp_path_factory.mktemp("two")
    small = write_h264(root / "small.mp4", frames=100, size=SMALL)
    large = write_h264(root / "large.mp4", frames=100, size=LARGE)
    return small, large


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _metric(text: str, name: str, labels: str) -> float:
    found = re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.M)
    assert found is not None, f"{name}{{{labels}}} not in /metrics:\n{text}"
    return float(found.group(1))


def test_detect_on_the_substream_and_clip_the_main_stream_undecoded(
    tmp_path: Path, streams: tuple[Path, Path]
) -> None:
    config = tmp_path / "edgecam.yaml"
    with LiveStream(streams[0]) as small, LiveStream(streams[1]) as large:
        config.write_text(
            "device: {name: two}\n"
            f"cameras:\n  gate: {{source: {{type: av, url: '{small.url}',\n"
            f"                           record: {{url: '{large.url}'}}}},\n"
            "         lines: {middle: {points: [[0.5, 0.0], [0.5, 1.0]]}}}\n"
            "rules:\n"
            "  - {name: crossing, kind: line, line: middle, labels: [person], snapshot: false,\n"
            f"     clip: {{pre: {PRE}s, post: {POST}s}}}}\n"
            f"events: {{path: {tmp_path / 'store'}, min_free_bytes: 0}}\n"
            'http: {listen: "127.0.0.1:0"}\n'
            "health: {stale_after: 30s, invoke_timeout: 60s, stop_timeout: 10s}\n"
        )
        with running(tmp_path, ["run", "--config", str(config)], None) as svc:

            def ready() -> list[dict[str, object]]:
                code, body = svc.get_json("/api/events?camera=gate")
                events = body["events"] if code == 200 else []
                assert isinstance(events, list)
                return [e for e in events if (e.get("clip") or {}).get("status") == "ready"]

            wait(lambda: bool(ready()), 60, svc.stderr)
            event = ready()[0]
            clip = event["clip"]
            assert isinstance(clip, dict)
            with urllib.request.urlopen(svc.url(str(clip["url"])), timeout=10) as reply:
                data = reply.read()
            _, _, body = svc.get("/metrics")
            metrics = body.decode()
            _, stats = svc.get_json("/api/cameras/gate")
            svc.signal(signal.SIGTERM)
            assert svc.proc.wait(60) == 0
    log = svc.stderr()
    assert "record stream" in log and "demuxed for clips, not decoded" in log, log
    assert "decoding in software" in log or "software decoder" in log, log
    # Detections came from the small stream: it is the one decoded.
    assert _metric(metrics, "edgecam_frames_decoded_total", 'camera="gate",stream="detect"') > 10
    # The large stream went into the ring packet by packet, and not one frame of it was decoded
    # (snapshots are off: a full-size snapshot decodes its newest keyframe's group, on demand).
    assert _metric(metrics, "edgecam_record_packets_total", 'camera="gate"') > 10
    assert _metric(metrics, "edgecam_frames_decoded_total", 'camera="gate",stream="record"') == 0
    (tmp_path / "clip.mp4").write_bytes(data)
    got = probe(tmp_path / "clip.mp4")
    # The large stream's own H.264 at its full size, not re-encoded; the event's frame was small.
    assert (got.codec, got.width, got.height) == ("h264", *LARGE), stats
    assert clip["reencoded"] is False and got.keyframes[0] == 0
    # Pre-roll present: the clip starts at the keyframe at or before ``pre`` ahead of the event,
    # so it lasts at least pre + post, and at most one keyframe interval (1 s) more.
    wanted = _seconds(str(event["end"])) - _seconds(str(event["start"])) + PRE + POST
    assert wanted - 0.2 <= float(str(clip["duration_s"])) <= wanted + 1.0 + 0.2, (clip, wanted)
    assert clip["truncated"] == [], clip
