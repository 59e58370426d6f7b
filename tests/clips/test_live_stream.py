"""A live H.264 stream on loopback through ``edgecam run``: clips remuxed, served by the API."""

from __future__ import annotations

import json
import signal
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.clips.media import probe, write_h264
from tests.clips.streaming import LiveStream
from tests.service.harness import running, wait

PRE, POST = 1.0, 1.0
GOP_S = 1.0


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clip as H.264, one keyframe a second."""
    return write_h264(tmp_path_factory.mktemp("h264") / "live.mp4", frames=240)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_live_h264_stream_gives_remuxed_clips_over_the_api(tmp_path: Path, h264: Path) -> None:
    config = tmp_path / "edgecam.yaml"
    with LiveStream(h264) as stream:
        config.write_text(
            "device: {name: live}\n"
            f"cameras:\n  gate: {{source: {{type: av, url: '{stream.url}'}},\n"
            "         lines: {middle: {points: [[0.5, 0.0], [0.5, 1.0]]}}}\n"
            "rules:\n"
            "  - {name: crossing, kind: line, line: middle, labels: [person],\n"
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

            wait(lambda: bool(ready()), 90, svc.stderr)
            event = ready()[0]
            clip = event["clip"]
            assert isinstance(clip, dict) and event["type"] == "count"
            with urllib.request.urlopen(svc.url(str(clip["url"])), timeout=10) as reply:
                data = reply.read()
            request = urllib.request.Request(
                svc.url(str(clip["url"])), headers={"Range": "bytes=10-"}
            )
            with urllib.request.urlopen(request, timeout=10) as reply:
                assert reply.status == 206 and reply.read() == data[10:]
            svc.signal(signal.SIGTERM)
            assert svc.proc.wait(60) == 0
    (tmp_path / "clip.mp4").write_bytes(data)
    got = probe(tmp_path / "clip.mp4")
    # The camera's own H.264, not re-encoded: same size and codec, and the camera's keyframes
    # (one a second, ten frames apart at 10 fps).
    assert (got.codec, got.width, got.height) == ("h264", 768, 576)
    assert clip["reencoded"] is False and got.keyframes[:2] == [0, 10]
    # pre + event (a crossing: an instant) + post, to within one keyframe interval (and a
    # frame of jitter).
    wanted = _seconds(str(event["end"])) - _seconds(str(event["start"])) + PRE + POST
    assert wanted - 0.2 <= float(str(clip["duration_s"])) <= wanted + GOP_S + 0.2, (clip, wanted)
    assert len(got.times) == clip["frames"]
    assert all(0.09 < b - a < 0.11 for a, b in zip(got.times, got.times[1:], strict=False))
    assert json.loads(json.dumps(clip))["truncated"] == []
