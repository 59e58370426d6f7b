"""A thousand valid ``detect/set`` commands a second for 10 s: a few log lines, the last one wins.

As measured before: one INFO line each (9,901 lines in 10 s), repeats while already off too.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from tests.publish.broker import Broker, Subscriber
from tests.service.harness import NotifySocket, running, wait, write_config

SET = "edgecam/svc/plaza/detect/set"
STATE = "edgecam/svc/plaza/detect/state"
RATE = 1000
SECONDS = 10.0


def _flooder(broker: Broker) -> Any:
    from paho.mqtt.client import Client
    from paho.mqtt.enums import CallbackAPIVersion

    client = Client(CallbackAPIVersion.VERSION2, client_id="flooder")
    client.max_inflight_messages_set(0)  # no window: the rate is the test's, not paho's
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port, keepalive=30)
    client.loop_start()
    return client


def test_a_thousand_valid_commands_a_second_log_a_few_lines_and_the_last_wins(
    tmp_path: Path,
) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    subscriber = Subscriber(broker, [STATE]).start()
    notify = NotifySocket(tmp_path / "notify.sock")
    mqtt = (
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, outbox: {{path: {tmp_path}/o.sqlite}}}}\n"
    )
    config = write_config(tmp_path / "edgecam.yaml", extra=mqtt)
    flooder = _flooder(broker)
    try:
        with running(tmp_path, ["run", "--config", str(config)], notify) as svc:
            notify.wait_for("READY")
            svc.wait_log("MQTT: connected to")
            metrics = svc.get("/metrics")[2].decode()
            assert f'edgecam_mqtt_connected{{broker="127.0.0.1:{broker.port}"}} 1.0' in metrics
            threads = [line for line in metrics.splitlines() if line.startswith("edgecam_threads ")]
            assert threads and 0 < float(threads[0].split()[1]) <= 96  # the unit's TasksMax
            before = len(svc.stderr().splitlines())
            rng = random.Random(22)
            start, sent = time.monotonic(), 0
            while time.monotonic() - start < SECONDS:
                for _ in range(RATE // 20):  # in batches, 20 a second
                    flooder.publish(SET, rng.choice([b"ON", b"OFF", b"OFF"]), qos=1)
                sent += RATE // 20
                time.sleep(max(0.0, start + sent / RATE - time.monotonic()))
            last = flooder.publish(SET, b"OFF", qos=1)  # the last command
            last.wait_for_publish(10.0)
            assert sent >= RATE * SECONDS * 0.9, sent

            def detect() -> object:
                code, body = svc.get_json("/api/cameras/plaza")
                assert code == 200, body
                return body["detect"]

            wait(lambda: detect() is False, 60.0, svc.stderr)
            time.sleep(1.0)  # anything still queued would show now
            assert detect() is False
            states = subscriber.on(STATE)
            assert states and states[-1].payload == b"OFF"
            lines = svc.stderr().splitlines()[before:]
            print(f"flood: {sent} commands, {len(lines)} log lines")
            assert len(lines) <= 50, f"{len(lines)} lines:\n" + "\n".join(lines[:60])
    finally:
        flooder.disconnect()
        flooder.loop_stop()
        subscriber.close()
        broker.stop()
        notify.close()
