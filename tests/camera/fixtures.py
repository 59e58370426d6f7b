"""Helpers for capture tests: a recording sink and bounded waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from edgecam.event import Event
from edgecam.pipeline.loop import Pipeline


class RecordingSink:
    """An :class:`~edgecam.publish.base.EventSink` that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.snapshots: list[tuple[str, str, bytes]] = []
        self.published: list[Mapping[str, object]] = []

    def emit(self, event: Event) -> None:
        """Keep the event."""
        self.events.append(event)

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Keep the snapshot."""
        self.snapshots.append((camera, rule, jpeg))

    def stats(self, stats: Mapping[str, object]) -> None:
        """Keep the stats."""
        self.published.append(stats)

    def close(self) -> None:
        """Nothing to release."""


def wait_until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail the test if it does not within ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {limit} s")
        time.sleep(0.02)


@contextmanager
def running(pipeline: Pipeline) -> Iterator[threading.Thread]:
    """Run ``pipeline`` in a thread for the duration of the block, then stop it."""
    pipeline.start()
    thread = threading.Thread(target=pipeline.run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        pipeline.stop.set()
        thread.join(timeout=15.0)
        assert not thread.is_alive(), "the pipeline did not stop"


def camera_stats(sink: RecordingSink, camera: str) -> Mapping[str, Any]:
    """The latest published stats of one camera."""
    cameras = sink.published[-1]["cameras"]
    assert isinstance(cameras, Mapping)
    stats = cameras[camera]
    assert isinstance(stats, Mapping)
    return stats
