"""The events API over real HTTP: queries, snapshots, and clips with range requests."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecam.event import Event
from edgecam.events.media import MediaStore
from edgecam.events.store import EventStore
from tests.clips.media import probe, write_h264
from tests.web.fakes import Client, serving


def _event(kind: str, event_id: str, ts: str, **extra: object) -> Event:
    return Event(event_id, kind, extra.pop("rule", "people"), extra.pop("camera", "porch"),  # type: ignore[arg-type]
                 ts, 1, label="person", score=0.9, track_id=7, **extra)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_h264(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=30)


@pytest.fixture
def store(tmp_path: Path, clip_file: Path) -> Iterator[EventStore]:
    store = EventStore(tmp_path, 100, MediaStore(tmp_path, 10**9, 1e9))
    clip = tmp_path / "porch" / "a_clip.mp4"
    ref = {"id": "a", "path": str(clip), "url": "http://x/api/events/a/clip.mp4"}
    store.emit(_event("start", "a", "2026-12-04T10:00:00.000Z"))
    store.snapshot("porch", "people", b"\xff\xd8jpeg-a")
    store.emit(_event("end", "a-end", "2026-12-04T10:00:05.000Z", clip=ref))
    clip.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip_file, clip)
    store.clip_written("a", clip, {"status": "ready", "frames": 30, "truncated": []})
    store.emit(_event("start", "b", "2026-12-04T11:00:00.000Z", camera="yard"))
    store.emit(_event("count", "c", "2026-12-04T12:00:00.000Z", rule="gate", line="g",
                      direction="in", count=3))  # fmt: skip
    store.emit(_event("start", "d", "2026-12-04T13:00:00.000Z"))
    pending = {"id": "d", "path": str(tmp_path / "porch" / "d.mp4"), "url": "u"}
    store.emit(_event("end", "d-end", "2026-12-04T13:00:02.000Z", clip=pending))
    yield store
    store.close()


@pytest.fixture
def base(store: EventStore) -> Iterator[str]:
    with serving(extra={"events": store}) as (_view, server):
        yield server.url.rstrip("/")


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _json(url: str) -> tuple[int, dict[str, object]]:
    code, _, body = _get(url)
    return code, json.loads(body)


def _header(headers: dict[str, str], name: str) -> str:
    return {k.lower(): v for k, v in headers.items()}[name.lower()]


def _ids(base: str, query: str) -> list[str]:
    code, body = _json(f"{base}/api/events{query}")
    assert code == 200, body
    return [e["id"] for e in body["events"]]  # type: ignore[attr-defined]


def test_list_and_filters(base: str) -> None:
    assert _ids(base, "") == ["d", "c", "b", "a"]  # newest first
    assert _ids(base, "?camera=porch") == ["d", "c", "a"]
    assert _ids(base, "?camera=porch&rule=people") == ["d", "a"]
    assert _ids(base, "?since=2026-12-04T11:30:00Z") == ["d", "c"]
    assert _ids(base, "?since=1796383800") == ["d", "c"]  # epoch seconds: 2026-12-04T11:30Z
    assert _ids(base, "?limit=2") == ["d", "c"]
    for bad in ("?limit=0", "?limit=x", "?since=yesterday", "?colour=red"):
        code, body = _json(f"{base}/api/events{bad}")
        assert code == 400 and body["error"], bad


def test_one_event_with_its_snapshot_and_clip(base: str) -> None:
    code, event = _json(f"{base}/api/events/a")
    assert code == 200
    assert event["type"] == "start" and event["label"] == "person" and event["track_id"] == 7
    assert (event["start"], event["end"], event["ongoing"]) == (
        "2026-12-04T10:00:00.000Z", "2026-12-04T10:00:05.000Z", False)  # fmt: skip
    assert event["snapshot"] == "/api/events/a/snapshot.jpg"
    clip = event["clip"]
    assert isinstance(clip, dict)
    assert clip["status"] == "ready" and clip["url"] == "/api/events/a/clip.mp4"
    code, headers, jpeg = _get(f"{base}/api/events/a/snapshot.jpg")
    assert (code, _header(headers, "content-type"), jpeg) == (200, "image/jpeg", b"\xff\xd8jpeg-a")
    assert _json(f"{base}/api/events/b")[1]["ongoing"] is True
    assert _json(f"{base}/api/events/c")[1]["clip"] is None
    assert _json(f"{base}/api/events/nope")[0] == 404


def test_clip_range_requests(base: str, clip_file: Path, tmp_path: Path) -> None:
    data = clip_file.read_bytes()
    size = len(data)
    url = f"{base}/api/events/a/clip.mp4"
    code, headers, body = _get(url)
    assert (code, _header(headers, "content-type"), _header(headers, "accept-ranges")) == (
        200, "video/mp4", "bytes")  # fmt: skip
    assert body == data and _header(headers, "content-length") == str(size)
    code, headers, body = _get(url, {"Range": "bytes=0-99"})
    assert (code, _header(headers, "content-range"), body) == (
        206,
        f"bytes 0-99/{size}",
        data[:100],
    )
    code, headers, body = _get(url, {"Range": "bytes=-100"})
    assert (code, _header(headers, "content-range"), body) == (
        206, f"bytes {size - 100}-{size - 1}/{size}", data[-100:])  # fmt: skip
    code, headers, body = _get(url, {"Range": "bytes=1000-"})
    assert (code, body) == (206, data[1000:])
    code, headers, _ = _get(url, {"Range": f"bytes={size}-"})
    assert (code, _header(headers, "content-range")) == (416, f"bytes */{size}")
    # A browser seeking: the file fetched in pieces is the file, and it decodes.
    pieces = b"".join(
        _get(url, {"Range": f"bytes={i}-{i + 9999}"})[2] for i in range(0, size, 10000)
    )
    assert pieces == data
    (tmp_path / "seeked.mp4").write_bytes(pieces)
    assert len(probe(tmp_path / "seeked.mp4").times) == 30


def test_clips_not_there_say_why(base: str, store: EventStore) -> None:
    code, body = _json(f"{base}/api/events/d/clip.mp4")
    assert code == 404 and "still being recorded" in str(body["error"])
    assert _json(f"{base}/api/events/d")[1]["clip"]["status"] == "recording"  # type: ignore[index]
    code, body = _json(f"{base}/api/events/c/clip.mp4")
    assert code == 404 and "no clip" in str(body["error"])
    clip = store.get("a")
    assert clip is not None and clip.clip is not None
    clip.clip.unlink()  # as the size cap would
    assert _json(f"{base}/api/events/a")[1]["clip"]["status"] == "deleted"  # type: ignore[index]
    assert _json(f"{base}/api/events/a/clip.mp4")[0] == 404


def test_more_filters_paging_and_the_total(base: str, store: EventStore) -> None:
    store.emit(Event("e", "start", "people", "porch", "2026-12-05T09:00:00.000Z", 1, label="dog",
                     zone="lawn"))  # fmt: skip
    assert _ids(base, "?label=dog") == ["e"]
    assert _ids(base, "?zone=lawn") == ["e"]
    assert _ids(base, "?day=2026-12-05") == ["e"]  # the fake view's device zone: UTC here
    assert _ids(base, "?day=2026-12-04&since=2026-12-04T11:30:00Z") == ["d", "c"]
    assert _ids(base, "?until=2026-12-04T11:30:00Z") == ["b", "a"]
    code, page = _json(f"{base}/api/events?limit=2&offset=2")
    assert code == 200 and [e["id"] for e in page["events"]] == ["c", "b"]  # type: ignore[attr-defined]
    assert (page["total"], page["offset"], page["limit"]) == (5, 2, 2)
    for bad in ("?offset=-1", "?day=monday", "?reviewed=maybe", "?until=soon"):
        code, body = _json(f"{base}/api/events{bad}")
        assert code == 400 and body["error"], bad


def test_marked_reviewed_and_the_summary(store: EventStore) -> None:
    with serving(extra={"events": store}) as (_view, server):
        base, api = server.url.rstrip("/"), Client(server)
        code, summary = _json(f"{base}/api/events/summary")
        assert code == 200 and summary["unreviewed"] == {"porch": 3, "yard": 1}
        hours = [0] * 10 + [1] * 4 + [0] * 10
        assert summary["days"] == [{"day": "2026-12-04", "count": 4, "hours": hours}]
        assert summary["timezone"] == "UTC"
        assert api.json("POST", "/api/events/a/reviewed", {"reviewed": True}) == (
            200, {"id": "a", "reviewed": True})  # fmt: skip
        assert api.json("POST", "/api/events/nope/reviewed", {"reviewed": True})[0] == 404
        assert api.json("POST", "/api/events/a/reviewed", {"reviewed": "yes"})[0] == 400
        assert _json(f"{base}/api/events/a")[1]["reviewed"] is True
        assert _ids(base, "?reviewed=false") == ["d", "c", "b"]
        assert _json(f"{base}/api/events/summary")[1]["unreviewed"] == {"porch": 2, "yard": 1}
