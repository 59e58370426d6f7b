"""The queues: max_age drops (counted), a damaged queue file, one sender per queue directory."""

from __future__ import annotations

import time
from pathlib import Path

from edgecam.notify.sink import NotifySink
from edgecam.publish.outbox import Outbox
from tests.notify.notes import event, fire, notify_config, rule
from tests.notify.receivers import HttpReceiver, wait_until


class Clock:
    """A wall clock the test moves forward (the notifier's ``max_age`` counts in it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_older_than_max_age_is_dropped_and_counted(tmp_path: Path) -> None:
    down = HttpReceiver()  # never started
    clock = Clock()
    config = notify_config(
        tmp_path, {"hook": f"json://127.0.0.1:{down.port}/h"}, max_age="1h", retry_max=0.3
    )
    sink = NotifySink(config, [rule(["hook"], snapshot=False)], clock=clock)
    sink.start()
    try:
        for n in range(3):
            fire(sink, event(time.time() + n), jpeg=None)
        wait_until(lambda: sink.figures()["hook"]["failed"] >= 1, 5.0, sink.figures)
        clock.offset = 3601.0  # an hour later, the receiver still down
        wait_until(lambda: sink.figures()["hook"]["pending"] == 0, 5.0, sink.figures)
    finally:
        sink.close()
    assert sink.figures()["hook"]["dropped_max_age"] == 3
    assert sink.figures()["hook"]["sent"] == 0


def test_a_damaged_queue_file_is_moved_aside_and_delivery_goes_on(tmp_path: Path) -> None:
    hook = HttpReceiver().start()
    config = notify_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/h"})
    queues = tmp_path / "queues"
    queues.mkdir()
    # A queue file of edgecam's (its application id in a sound header) with a damaged page;
    # a file that is not provably edgecam's is never renamed (tests/publish/test_outbox_damage).
    old = Outbox(queues / "hook.sqlite")
    for n in range(200):
        old.add(f"old{n}", "t", b"x" * 300, 0.0)
    old.close()
    with (queues / "hook.sqlite").open("r+b") as file:
        file.seek(4096)
        file.write(b"\xde\xad" * 2048)
    sink = NotifySink(config, [rule(["hook"], snapshot=False)])
    sink.start()
    try:
        fire(sink, event(time.time()), jpeg=None)
        hook.wait_for(1, timeout=5.0)
    finally:
        sink.close()
        hook.stop()
    assert list(queues.glob("hook.sqlite.damaged*")) or list(queues.glob("*damaged*"))


def test_a_second_notifier_on_the_same_queues_waits_for_the_first(tmp_path: Path) -> None:
    hook = HttpReceiver().start()
    config = notify_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/h"})
    old = NotifySink(config, [rule(["hook"], snapshot=False)])
    old.start()
    new = NotifySink(config, [rule(["hook"], snapshot=False)])
    new.start()  # as a reload whose old notifier is still busy: its worker waits for the lock
    try:
        fire(new, event(time.time()), jpeg=None)
        hook.wait_for(1, timeout=5.0)  # the old worker sends what is in the shared queue
        old.close()
        fire(new, event(time.time() + 1), jpeg=None)
        hook.wait_for(2, timeout=5.0)  # and the new one takes over
        time.sleep(0.3)
    finally:
        new.close()
        hook.stop()
    assert len(hook.requests) == 2, "each once"


def test_on_a_full_disk_notifications_still_go_out_and_health_says_why(tmp_path: Path) -> None:
    from edgecam.notify.queue import TargetQueue
    from tests.reliability.tmpfs import fill, small_filesystem

    hook = HttpReceiver().start()
    with small_filesystem(tmp_path / "small", "64k") as disk:
        TargetQueue(disk, "hook", 100).close()  # a queue from an earlier run, then the disk fills
        fill(disk)
        config = notify_config(
            tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/h"}, path=disk,
            hook_settings={"body": "{id}"},
        )  # fmt: skip
        sink = NotifySink(config, [rule(["hook"], snapshot=False)])
        sink.start()
        try:
            sent = [event(time.time() + n) for n in range(20)]
            for ev in sent:
                fire(sink, ev, jpeg=None)
            hook.wait_for(20, timeout=10.0)
            reasons = sink.degraded()
        finally:
            sink.close()
            hook.stop()
    assert [r.json()["message"] for r in hook.requests] == [ev.id for ev in sent]
    assert any(r.startswith("notify target hook queue:") for r in reasons), reasons


def test_past_max_pending_the_oldest_are_dropped_and_counted(tmp_path: Path) -> None:
    hook = HttpReceiver()  # down while they pile up
    config = notify_config(
        tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/h"}, max_pending=10,
        retry_min=0.3, retry_max=0.3, hook_settings={"body": "{id}"},
    )  # fmt: skip
    sink = NotifySink(config, [rule(["hook"], snapshot=False)])
    sink.start()
    try:
        sent = [event(time.time() + n) for n in range(25)]
        for ev in sent:
            fire(sink, ev, jpeg=None)
        # One more when the worker was trying the oldest just then: it is not dropped mid-send.
        assert sink.figures()["hook"]["pending"] in (10, 11)
        hook.start()
        hook.wait_for(10, timeout=10.0)
        deadline = time.monotonic() + 10.0  # the one in flight, if any, goes out too
        while sink.figures()["hook"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sink.close()
        hook.stop()
    got = [r.json()["message"] for r in hook.requests]
    ids = [ev.id for ev in sent]
    assert len(got) in (10, 11)
    # The one being sent while the queue overflowed is never dropped: it may come first.
    newest = got[1:] if got[0] not in ids[-len(got) :] else got
    assert newest == ids[-len(newest) :], "the newest, in order"
    assert len(newest) >= 9
    assert sink.figures()["hook"]["dropped_full"] == 25 - len(got)
