"""The snapshot worker: renders off the detector thread, newest alerts first, drains on close."""

from __future__ import annotations

import threading

import numpy as np

from edgecam.pipeline.snapshots import SnapshotJob, SnapshotWorker
from edgecam.types import Frame, Image
from tests.camera.fixtures import RecordingSink
from tests.pipeline.test_annotate import decode, event

SMALL = np.zeros((48, 64, 3), np.uint8)


def job(seq: int, sinks: list[RecordingSink]) -> SnapshotJob:
    frame = Frame(SMALL, seq, float(seq), 0.0, "cam")
    return SnapshotJob(frame, [event(rule=f"r{seq}", camera="cam")], [], None, sinks)


def test_jobs_render_on_the_worker_thread_at_the_full_frame_size() -> None:
    full = np.zeros((120, 160, 3), np.uint8)
    asked: list[tuple[str, str]] = []

    def full_frame(camera: str) -> Image:
        asked.append((camera, threading.current_thread().name))
        return full

    sink = RecordingSink()
    worker = SnapshotWorker(full_frame)
    worker.submit(job(1, [sink]))
    worker.close()
    assert asked == [("cam", "snapshots")]
    [(camera, rule, jpeg)] = sink.snapshots
    assert (camera, rule) == ("cam", "r1") and decode(jpeg).shape == (120, 160, 3)
    assert worker.rendered == 1 and worker.dropped == 0


def test_without_a_full_frame_the_analysed_frame_is_drawn() -> None:
    sink = RecordingSink()
    worker = SnapshotWorker(lambda camera: None)
    worker.submit(job(1, [sink]))
    worker.close()
    assert decode(sink.snapshots[0][2]).shape == SMALL.shape


def test_a_backlog_drops_the_oldest_jobs_and_close_renders_the_rest() -> None:
    gate = threading.Event()
    sink = RecordingSink()

    def slow_full_frame(camera: str) -> None:
        gate.wait(10.0)  # the first job holds the worker until the queue has overflowed

    worker = SnapshotWorker(slow_full_frame, depth=2)
    for seq in range(6):
        worker.submit(job(seq, [sink]))
    gate.set()
    worker.close()
    rules = [rule for _, rule, _ in sink.snapshots]
    # The worker may or may not have taken job 0 before the others came; the newest two stay.
    assert rules[-2:] == ["r4", "r5"] and worker.dropped == 6 - len(rules)
    assert worker.dropped >= 3


def test_a_failing_sink_does_not_keep_snapshots_from_the_others() -> None:
    class Broken(RecordingSink):
        def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
            raise OSError("disk full")

    good = RecordingSink()
    worker = SnapshotWorker(lambda camera: None)
    worker.submit(job(1, [Broken(), good]))
    worker.submit(job(2, [good]))
    worker.close()
    assert [rule for _, rule, _ in good.snapshots] == ["r1", "r2"]


def test_after_close_jobs_are_ignored() -> None:
    sink = RecordingSink()
    worker = SnapshotWorker(lambda camera: None)
    worker.close()
    worker.submit(job(1, [sink]))
    assert sink.snapshots == [] and worker.rendered == 0
