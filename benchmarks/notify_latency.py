"""Notification latency (rule event to webhook receipt) and the notifier's CPU cost per message.

Run from the repository root: ``.venv/bin/python -m benchmarks.notify_latency [--count N]``.
Each alert is emitted as the pipeline does it (the event, then its snapshot JPEG) to a
:class:`~edgecam.notify.sink.NotifySink` whose target is Apprise ``json://`` to a webhook receiver
in a *separate process* on 127.0.0.1, so the CPU figure is edgecam's own (emit, durable queue,
worker, Apprise, HTTP); the receiver notes the arrival time of each event id. Prints one JSON
object: latency median and p99 (ms), CPU ms per notification, and the idle notifier's CPU ms per
second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edgecam.notify.config import NotifyConfig
from edgecam.notify.sink import NotifySink
from tests.notify.notes import JPEG, event, fire, rule
from tests.notify.receivers import free_port

RECEIVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
import json
out = open(sys.argv[2], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        now = time.time()
        out.write(f"{now} {json.loads(body)['message']}\\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def measure(count: int, interval: float) -> dict[str, float]:
    """Emit ``count`` alerts ``interval`` s apart; latency and CPU figures."""
    with tempfile.TemporaryDirectory() as temp:
        tmp = Path(temp)
        port = free_port()
        arrivals = tmp / "arrivals.txt"
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), str(arrivals)])
        try:
            (tmp / "hook.url").write_text(f"json://127.0.0.1:{port}/hook\n")
            config = NotifyConfig.model_validate(
                {"targets": {"hook": {"url_file": tmp / "hook.url", "body": "{id}"}},
                 "path": tmp / "queues"}
            )  # fmt: skip
            sink = NotifySink(config, [rule(["hook"])])
            sink.start()
            time.sleep(1.0)  # the receiver is up, Apprise's plugins are loaded
            idle = time.process_time()
            time.sleep(5.0)
            idle = (time.process_time() - idle) / 5.0
            sent: dict[str, float] = {}
            cpu = time.process_time()
            for n in range(count):
                ev = event(time.time() + n)
                sent[ev.id] = time.time()
                fire(sink, ev, JPEG)
                time.sleep(interval)
            deadline = time.monotonic() + 60
            while sink.figures()["hook"]["sent"] < count and time.monotonic() < deadline:
                time.sleep(0.01)
            cpu = time.process_time() - cpu
            sink.close()
        finally:
            receiver.terminate()
            receiver.wait(10)
        got = dict(
            (line.split()[1], float(line.split()[0])) for line in arrivals.read_text().splitlines()
        )
    latency = sorted((got[i] - sent[i]) * 1000 for i in sent if i in got)
    return {
        "notifications": count,
        "received": len(latency),
        "latency_median_ms": round(statistics.median(latency), 1),
        "latency_p99_ms": round(latency[min(len(latency) - 1, int(0.99 * len(latency)))], 1),
        "cpu_ms_per_notification": round(cpu * 1000 / count, 2),
        "idle_cpu_ms_per_s": round(idle * 1000, 3),
        "jpeg_bytes": len(JPEG),
    }


def main() -> None:
    """Print the figures as one JSON object."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between alerts")
    args = parser.parse_args()
    print(json.dumps(measure(args.count, args.interval)))


if __name__ == "__main__":
    main()
