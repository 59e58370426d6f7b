"""Clips across reloads (``Service.apply``): a camera restarted or removed while a clip records,
and a camera given its first clip rule. Nothing is lost and the reload says what it did.

The service runs in this process with the real detector on an H.264 recording (remuxed clips);
this thread is the pipeline thread, stepping it while ``apply`` runs on another.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edgecam.clips.job import ClipJob, ClipRef
from edgecam.clips.writer import ClipResult, ClipWriter
from edgecam.config.loader import parse_config
from edgecam.event import Event
from edgecam.service.app import Service
from edgecam.service.build import Builders
from edgecam.service.notify import Notifier
from tests.clips.media import probe, write_h264
from tests.helpers import DATA
from tests.publish.broker import Broker, Subscriber
from tests.publish.conftest import broker, subscriber  # noqa: F401 (fixtures)
from tests.service.harness import running, wait

CLIP = "clip: {pre: 1s, post: 30s, max: 1m}"


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 12 s of the demo clip as H.264."""
    return write_h264(tmp_path_factory.mktemp("h264") / "reload.mp4", frames=120)


@dataclass
class Sink:
    """Events, and finished clips as the MQTT sink gets them (its ``clip`` topic)."""

    events: list[Event] = field(default_factory=list)
    clips: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def clip(self, camera: str, rule: str, info: dict[str, Any]) -> None:
        self.clips[str(info["id"])] = (camera, rule, info)

    def starts(self, camera: str) -> list[Event]:
        return [e for e in self.events if e.type == "start" and e.camera == camera]


def _text(video: Path, tmp: Path, clip: str = CLIP, still: bool = False) -> str:
    person = DATA / "person.jpg"
    extra = f"  still: {{source: {{type: image, paths: [{person}], loop: true}}, fps: 1}}\n"
    return (
        "cameras:\n"
        f"  plaza: {{source: {{type: av, path: {video}, pace: realtime}}, fps: 5,"
        " stall_timeout: 10s}\n" + (extra if still else "") + "rules:\n"
        "  - {name: people, kind: presence, labels: [person], min_score: 0.5, off_delay: 60s"
        + (f", {clip}}}\n" if clip else "}\n")
        + f"events: {{path: {tmp / 'store'}, min_free_bytes: 0}}\n"
        "http: {enabled: false}\n"
        "health: {stop_timeout: 5s}\n"
    )


_BUILT: list[Service] = []


@pytest.fixture(autouse=True)
def _close_the_events_store() -> Iterator[None]:
    """The events store of each service built here, closed after its test (the tests drive the
    pipeline, not ``run``, whose shutdown closes it): an SQLite connection left to the garbage
    collector is a ResourceWarning on Python 3.13, an error in this suite."""
    yield
    while _BUILT:
        if (store := _BUILT.pop().events.store) is not None:
            store.close()


def _service(text: str, sink: Sink) -> Service:
    service = Service(
        parse_config(text),
        Builders(sinks=lambda _c: [sink], endpoint=lambda *_: None),
        notifier=Notifier(None),
    )
    _BUILT.append(service)
    service.pipeline.start()
    return service


def _step_until(service: Service, done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        if not service.pipeline.step():
            time.sleep(0.01)


def _step_for(service: Service, seconds: float) -> None:
    until = time.monotonic() + seconds
    _step_until(service, lambda: time.monotonic() >= until)


def _apply(service: Service, text: str) -> bool:
    """``Service.apply`` on another thread while this one is the pipeline thread."""
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(service.apply(parse_config(text))))
    thread.start()
    while thread.is_alive():
        service.pipeline.step()
        thread.join(0.01)
    return result[0]


def _stored(service: Service, event_id: str) -> dict[str, object] | None:
    assert service.events.store is not None
    stored = service.events.store.get(event_id)
    return None if stored is None else stored.clip_info


@pytest.mark.parametrize(
    ("change", "reason"),
    [("restart", "camera restarted by a reload"), ("remove", "camera removed by a reload")],
)
def test_a_clip_recording_when_its_camera_stops_is_cut_there_and_written(
    h264: Path, tmp_path: Path, change: str, reason: str
) -> None:
    sink = Sink()
    text = _text(h264, tmp_path, still=True)
    service = _service(text, sink)
    try:
        _step_until(service, lambda: bool(sink.starts("plaza")))
        start = sink.starts("plaza")[0]
        _step_for(service, 0.5)  # some video after the start
        if change == "restart":  # a capture setting: plaza restarts, its clip ring is new
            new = text.replace("stall_timeout: 10s", "stall_timeout: 11s")
        else:
            new = text.replace(next(x for x in text.splitlines() if "plaza:" in x) + "\n", "")
        assert _apply(service, new)
        # The open clip ended at the reload (its post-roll would reach past the restart) ...
        end = next(e for e in sink.events if e.type == "end" and e.start_id == start.id)
        assert end.clip is not None and end.clip["id"] == start.id
        # ... and is written, cut at the stop, saying why: on the clip topic and in the store.
        _step_until(service, lambda: start.id in sink.clips)
        camera, rule, info = sink.clips[start.id]
        assert (camera, rule, info["status"]) == ("plaza", "people", "ready"), info
        assert f"{reason} mid-clip" in info["truncated"]  # (and the pre-roll, at the start)
        assert len(probe(Path(str(info["path"]))).times) == info["frames"] > 5
        _step_until(service, lambda: _stored(service, start.id) is not None)
        assert _stored(service, start.id) == info
        if change == "restart":  # the new ring records the next clips
            _step_until(service, lambda: len(sink.starts("plaza")) > 1)
            again = sink.starts("plaza")[1].id
            service.pipeline.close()
            _, _, info = sink.clips[again]
            assert info["status"] == "ready" and info["frames"], info
    finally:
        service.pipeline.close()


def test_a_reload_that_gives_a_camera_its_first_clip_rule_records_its_clips(
    h264: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = Sink()
    text = _text(h264, tmp_path, clip="")
    service = _service(text, sink)
    try:
        _step_until(service, lambda: bool(sink.starts("plaza")))
        with caplog.at_level(logging.INFO):
            assert _apply(service, _text(h264, tmp_path))
        _step_until(service, lambda: len(sink.starts("plaza")) > 1)
        start = sink.starts("plaza")[1]
        service.pipeline.close()  # the clip ends with what there is, and is written
        end = next(e for e in sink.events if e.type == "end" and e.start_id == start.id)
        assert end.clip is not None and end.clip["id"] == start.id
        _, _, info = sink.clips[start.id]
        assert info["status"] == "ready" and info["frames"], info
        assert "recording stopped before the clip's end" in info["truncated"]
        # The reload said what it did: plaza restarted to get its clip ring.
        assert "reload: camera plaza restarted: a rule now records its clips" in caplog.text
    finally:
        service.pipeline.close()


def test_edgecam_run_sighup_and_sigterm_mid_clip_publish_every_clip(
    tmp_path: Path,
    h264: Path,
    broker: Broker,  # noqa: F811
    subscriber: Subscriber,  # noqa: F811
) -> None:
    config = tmp_path / "edgecam.yaml"
    text = _text(h264, tmp_path) + (
        f"device: {{name: reclip}}\nmqtt: {{host: 127.0.0.1, port: {broker.port},"
        f" outbox: {{path: {tmp_path / 'outbox.sqlite'}}}}}\n"
    )
    config.write_text(text)
    events = tmp_path / "events.jsonl"
    topic = "edgecam/reclip/plaza/people/clip"

    def clips() -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in subscriber.messages if m.topic == topic]

    def starts() -> list[str]:
        lines = events.read_text().splitlines() if events.exists() else []
        return [e["id"] for e in map(json.loads, lines) if e["type"] == "start"]

    args = ["run", "--config", str(config), "--events", str(events)]
    with running(tmp_path, args, None) as svc:
        wait(lambda: len(starts()) == 1, 30, svc.stderr)
        config.write_text(text.replace("stall_timeout: 10s", "stall_timeout: 11s"))
        svc.signal(signal.SIGHUP)  # plaza restarts while its clip records
        wait(lambda: len(clips()) == 1, 30, lambda: f"{svc.stderr()}\n{clips()}")
        first = clips()[0]
        assert first["id"] == starts()[0] and first["status"] == "ready", first
        assert "camera restarted by a reload mid-clip" in first["truncated"]
        wait(lambda: len(starts()) == 2, 30, svc.stderr)  # the restarted camera's next clip
        time.sleep(0.5)
        stopping = time.monotonic()
        svc.signal(signal.SIGTERM)
        assert svc.proc.wait(30) == 0
        took = time.monotonic() - stopping
    wait(lambda: len(clips()) == 2, 10, lambda: str(clips()))
    last = clips()[1]
    assert last["id"] == starts()[1] and last["status"] == "ready", last
    assert "recording stopped before the clip's end" in last["truncated"]
    assert len(probe(Path(last["path"])).times) == last["frames"] > 0
    assert took < 5.0, f"stopping took {took:.1f} s, more than health.stop_timeout (5 s)"


def test_clips_not_begun_when_stop_timeout_ends_are_reported_failed(tmp_path: Path) -> None:
    release = threading.Event()
    results: list[ClipResult] = []

    def slow(result: ClipResult) -> None:  # the first result holds the writer thread
        results.append(result)
        if len(results) == 1:
            release.wait(5.0)

    writer = ClipWriter(slow)
    for i in range(3):
        ref = ClipRef(f"e{i}", tmp_path / f"{i}.mp4", f"/e{i}")
        writer.submit(ClipJob(ref, "cam", "walk", 0.0, 0.0, 9.0, 1 << 20, None))
    began = time.monotonic()
    writer.close(0.2)
    assert time.monotonic() - began < 2.0  # 0.2 s, then at most 1 s for the clip in progress
    release.set()
    assert [r.job.ref.id for r in results] == ["e0", "e1", "e2"]
    assert [r.error for r in results[1:]] == ["not written: the service stopped first"] * 2
    assert writer.stats.failed == 3 and results[2].info()["status"] == "failed"
