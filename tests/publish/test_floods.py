"""Floods of bad input write a bounded number of log lines, with a count of those suppressed.

As measured before: 1,000 bad ``detect/set`` messages a second wrote 4,999 WARNING lines in 6 s.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from edgecam.ratelimit import RateLimitedLog
from tests.publish.broker import Broker, Subscriber, wait_until
from tests.publish.sinks import CAMERA, DEVICE, make_sink, sink_config

BASE = f"edgecam/{DEVICE}"


def test_a_command_flood_logs_a_few_lines_and_commands_still_work(
    broker: Broker, subscriber: Subscriber, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = make_sink(sink_config(broker, tmp_path / "o.sqlite"), start=False)
    calls: list[tuple[str, bool]] = []
    sink.on_detect_command = lambda camera, enabled: calls.append((camera, enabled))
    with caplog.at_level(logging.INFO, logger="edgecam.publish.mqtt"):
        sink.start()
        wait_until(lambda: "connected to" in caplog.text, 30.0, "connected")
        client = subscriber._client
        start = time.monotonic()
        for second in range(6):  # 6,000 bad commands, 1,000 a second, two kinds
            for i in range(500):
                client.publish(f"{BASE}/{CAMERA}/detect/set", f"maybe{i}".encode(), qos=0)
                client.publish(f"{BASE}/nocam{i}/detect/set", b"OFF", qos=0)
            time.sleep(max(0.0, start + second + 1 - time.monotonic()))
        subscriber.publish(f"{BASE}/{CAMERA}/detect/set", b"OFF")  # a good one, after the flood
        wait_until(lambda: calls == [(CAMERA, False)], 60.0, "the good command")
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # Five of each kind, the fifth saying that more are suppressed; nothing else.
    assert len(lines) == 10, [r.getMessage() for r in lines]
    suppressing = [r for r in lines if "more like it are suppressed for 60 s" in r.getMessage()]
    assert len(suppressing) == 2
    assert sink._noisy.suppressed > 1000
    sink.close()


def test_rate_limit_counts_and_reports_what_it_suppressed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    noisy = RateLimitedLog(logging.getLogger("flood"), interval=60.0, burst=3, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="flood"):
        for i in range(1000):
            noisy.warning("bad", "bad thing %d", i)
        noisy.warning("other", "another kind")
        now[0] = 61.0
        noisy.warning("bad", "bad thing again")
        for i in range(10):
            noisy.warning("bad", "more %d", i)
        noisy.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "bad thing 0",
        "bad thing 1",
        "bad thing 2 (more like it are suppressed for 60 s)",
        "another kind",
        "bad thing again (997 more like it suppressed in the last 60 s)",
        "more 0",
        "more 1 (more like it are suppressed for 60 s)",
        "8 more 'bad' message(s) were suppressed",
    ]
    assert noisy.suppressed == 1005
