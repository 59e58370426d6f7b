"""The composition root in process: reloads swap every part at once or none, on the pipeline thread.

A fake detector (the real one is exercised by the subprocess tests) and recording sinks; the test
drives the pipeline thread itself with ``step()`` while ``apply`` runs on another thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from edgecam.config.loader import parse_config
from edgecam.config.models import Config
from edgecam.errors import ModelError, PublishError
from edgecam.event import Event
from edgecam.pipeline.guard import DetectorLike
from edgecam.publish.base import DetectHandler, EventSink
from edgecam.service.app import Service
from edgecam.service.build import Builders, classified_labels
from edgecam.service.notify import Notifier
from tests.helpers import DATA
from tests.pipeline.test_guard import FakeDetector

BASE = (
    "cameras:\n"
    f"  still: {{source: {{type: image, paths: [{DATA / 'person.jpg'}], loop: true}}}}\n"
    "rules: [{name: people, kind: presence, labels: [person], min_score: 0.5}]\n"
    "http: {enabled: false}\n"
)


@dataclass
class Recorder:
    """A sink with every optional capability, recording what it gets."""

    name: str
    events: list[Event] = field(default_factory=list)
    started: bool = False
    closed: bool = False
    on_detect_command: DetectHandler | None = None

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True


@dataclass
class Parts:
    """Builders whose products the test can see; ``fail`` makes the named part fail."""

    device: str = "cpu"
    fail: set[str] = field(default_factory=set)
    detectors: list[FakeDetector] = field(default_factory=list)
    sinks: list[Recorder] = field(default_factory=list)
    classified: list[frozenset[str]] = field(default_factory=list)
    """The classified labels each build of the sinks was given (the MQTT sink's)."""

    def detector(self, config: Config) -> DetectorLike:
        if "model" in self.fail:
            raise ModelError(f"model file {config.model.path} not found; check model.path")
        self.detectors.append(FakeDetector(self.device))
        return self.detectors[-1]

    def sink(self, config: Config) -> list[EventSink]:
        if "sinks" in self.fail:
            raise PublishError("mqtt: the outbox cannot be opened")
        self.sinks.append(Recorder(config.device.name))
        self.classified.append(classified_labels(config.classify))
        return [self.sinks[-1]]

    def builders(self) -> Builders:
        return Builders(sinks=self.sink, detector=self.detector, endpoint=lambda *_: None)


_BUILT: list[Service] = []


@pytest.fixture(autouse=True)
def _close_what_outlives_reloads() -> Iterator[None]:
    """The events store and clip recorder of each service built here, closed after its test (the
    tests drive the pipeline, not ``run``, whose shutdown closes them): an SQLite connection left
    to the garbage collector is a ResourceWarning on Python 3.13, an error in this suite."""
    yield
    while _BUILT:
        events = _BUILT.pop().events
        if events.recorder is not None:
            events.recorder.close()
        if events.store is not None:
            events.store.close()


def _service(parts: Parts, text: str = BASE) -> Service:
    service = Service(parse_config(text), parts.builders(), notifier=Notifier(None))
    _BUILT.append(service)
    service._start_sinks(service.pipeline.sinks)
    service.pipeline.start()
    return service


def _on_other_thread(service: Service, call: Callable[[], bool]) -> bool:
    """Run ``call`` on another thread while this one is the pipeline thread."""
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    while thread.is_alive():
        service.pipeline.step()
        thread.join(0.01)
    return result[0]


def test_a_good_reload_swaps_every_part_and_closes_the_old_ones() -> None:
    parts = Parts()
    service = _service(parts)
    while not parts.sinks[0].events:
        service.pipeline.step()
    more = (
        "device: {name: d2}\nmodel: {threads: 3}\nhealth: {stale_after: 3s, invoke_timeout: 4s}\n"
    )
    new = parse_config(BASE.replace("people", "walkers") + more)
    assert _on_other_thread(service, lambda: service.apply(new))
    old_sink, new_sink = parts.sinks
    assert [(e.type, e.rule) for e in old_sink.events] == [("start", "people"), ("end", "people")]
    assert old_sink.closed and new_sink.started and not new_sink.closed
    assert service.pipeline.sinks == [new_sink, service.recent] and service.config is new
    assert parts.detectors[0].closed and not parts.detectors[1].closed
    # health: takes effect (it was logged as applied and ignored once).
    assert service.state.stale_after == 3.0 and service.detector.time_limit == 4.0
    service.pipeline.close()


def test_sinks_rebuilt_by_a_reload_get_the_running_classifiers_labels(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ``classify:`` change waits for a restart: Home Assistant's sub label sensors too."""
    parts = Parts()
    service = _service(parts)
    new = parse_config(BASE + "device: {name: d2}\nclassify: [{name: birds}]\n")
    with caplog.at_level(logging.INFO):
        assert _on_other_thread(service, lambda: service.apply(new))
    assert [r.name for r in parts.sinks][1:] == ["d2"]  # the sinks were rebuilt
    assert parts.classified == [frozenset(), frozenset()]  # not {"bird"} before a restart
    assert "classify changed and is NOT applied" in caplog.text
    service.pipeline.close()


@pytest.mark.parametrize("part", ["model", "sinks"])
def test_a_part_that_cannot_be_built_keeps_every_running_part(
    part: str, caplog: pytest.LogCaptureFixture
) -> None:
    parts = Parts()
    service = _service(parts)
    engine, sinks, config = service.pipeline.engine, service.pipeline.sinks, service.config
    more = "device: {name: d2}\nmodel: {threads: 3}\n"
    new = parse_config(BASE.replace("people", "walkers") + more)
    parts.fail.add(part)
    with caplog.at_level(logging.INFO):
        assert not _on_other_thread(service, lambda: service.apply(new))
    assert service.pipeline.engine is engine and service.pipeline.sinks == sinks
    assert service.config is config and not parts.sinks[0].closed
    running, *discarded = parts.detectors
    assert not running.closed and all(d.closed for d in discarded)  # built ahead, then let go
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and errors[0].endswith("keeping the running config"), errors
    assert "reload done" not in caplog.text
    service.pipeline.close()


def test_on_an_edge_tpu_the_new_model_is_built_in_the_swap_and_the_old_kept_on_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parts = Parts(device="usb")
    service = _service(parts)
    new = parse_config(BASE + "model: {threads: 3}\n")
    real_detector = parts.detector

    def fails_once_the_old_is_released(config: Config) -> DetectorLike:
        if config.model.threads == 3:
            raise ModelError("no Edge TPU at usb")
        return real_detector(config)

    parts.detector = fails_once_the_old_is_released  # type: ignore[method-assign]
    service.builders = parts.builders()
    with caplog.at_level(logging.ERROR):
        assert not _on_other_thread(service, lambda: service.apply(new))
    assert "no Edge TPU at usb; keeping the running config" in caplog.text
    assert len(parts.detectors) == 2  # the old config's detector, built again
    assert service.detector.info.device == "usb" and service.config.model.threads == 2
    parts.detector = real_detector  # type: ignore[method-assign]
    service.builders = parts.builders()
    assert _on_other_thread(service, lambda: service.apply(new))
    assert len(parts.detectors) == 3 and service.config.model.threads == 3
    service.pipeline.close()
    service.detector.close()


def test_detect_commands_reach_the_camera_through_the_pipeline_thread() -> None:
    parts = Parts()
    service = _service(parts)
    handler = parts.sinks[0].on_detect_command
    assert handler is not None
    threading.Thread(target=handler, args=("still", False)).start()  # as from paho's thread
    camera = service.pipeline.cameras[0]
    while camera.detect_enabled:
        assert service.pipeline._calls or camera.detect_enabled  # queued, not set directly
        service.pipeline.step()
    assert not camera.detect_enabled
    service.pipeline.close()


def test_a_reload_after_the_pipeline_stopped_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parts = Parts()
    service = _service(parts)
    service.pipeline.close()
    new = parse_config(BASE.replace("people", "walkers"))
    with caplog.at_level(logging.WARNING):
        assert not service.apply(new)
    assert "stopped first" in caplog.text and service.config is not new
