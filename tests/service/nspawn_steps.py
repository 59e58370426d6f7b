"""The real-systemd test's steps, run by a oneshot unit inside the container (systemd is PID 1).

Standard library only: it runs on the system ``python3`` before edgecam is installed. It does
what a user does (the README's install from a clone in a home directory, then config edits,
reloads and restarts) and checks what systemd and the broker see. Progress goes to
``/mnt/out/steps.log``; ``/mnt/out/result`` says ``ok`` or what failed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable
from pathlib import Path

OUT = Path("/mnt/out")
CLONE = Path("/home/pi/edgecam")
CONFIG = Path("/etc/edgecam/edgecam.yaml")
OUTBOX = Path("/var/lib/edgecam/outbox.sqlite")
VENV_PYTHON = "/opt/edgecam/bin/python"
PASSWORD = "s3cret-for-edgecam"
READER = ("reader", "reader-password")

SUBSCRIBER = """
import json, sys, paho.mqtt.client as mqtt
port, user, password, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def on_message(_c, _u, msg):
    with open(out, "a") as f:
        f.write(json.dumps([msg.topic, msg.payload.decode(errors="replace")]) + "\\n")
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="nspawn-reader")
c.username_pw_set(user, password)
c.on_connect = lambda c, *_: c.subscribe("edgecam/#", qos=1)
c.on_message = on_message
c.reconnect_delay_set(0.2, 1)
c.connect_async("127.0.0.1", port)
c.loop_forever(retry_first_connection=True)
"""


def log(text: str) -> None:
    """One progress line, with the seconds since boot."""
    with (OUT / "steps.log").open("a") as f:
        f.write(f"[{time.monotonic():7.1f}] {text}\n")


def sh(*args: str, check: bool = True, cwd: Path | None = None) -> str:
    """Run a command; its stdout (a failure raises with the output)."""
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd)
    if check and done.returncode != 0:
        output = done.stdout + done.stderr
        raise AssertionError(f"{' '.join(args)}: exit {done.returncode}\n{output}")
    return done.stdout


def show(prop: str) -> str:
    """A property of the edgecam unit (MainPID, NRestarts, StatusText, ...)."""
    return sh("systemctl", "show", "-P", prop, "edgecam.service").strip()


def wait(what: str, done: Callable[[], bool], timeout: float = 90.0) -> None:
    """Poll ``done`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def journal() -> str:
    """The service's log since boot."""
    return sh("journalctl", "-u", "edgecam.service", "-o", "cat", "--no-pager", check=False)


def active_with_status() -> bool:
    """Active (after READY=1) and a STATUS= text shown."""
    return show("ActiveState") == "active" and "fps on" in show("StatusText")


class Broker:
    """Mosquitto wanting a password from everyone, on a free loopback port."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        passwords = directory / "passwords"
        passwords.write_text("")
        for user, password in (("edgecam", PASSWORD), READER):
            sh("mosquitto_passwd", "-b", str(passwords), user, password)
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
            f"persistence false\nlog_dest file {directory / 'mosquitto.log'}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it listens."""
        self.proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(self.conf)])

        def listening() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0

        wait("mosquitto to listen", listening, 20)

    def stop(self) -> None:
        """Stop it (clients see the connection go)."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)


def messages() -> list[tuple[str, str]]:
    """What the reader received so far."""
    path = OUT / "mqtt.jsonl"
    if not path.exists():
        return []
    return [tuple(json.loads(line)) for line in path.read_text().splitlines() if line]


def event_ids() -> set[str]:
    """Ids of the events the reader received."""
    return {json.loads(payload)["id"] for topic, payload in messages() if topic.endswith("/events")}


def edit_config(old: str, new: str) -> None:
    """Replace text in the installed config, as a user's editor would."""
    text = CONFIG.read_text()
    assert old in text, f"{old!r} not in the config"
    CONFIG.write_text(text.replace(old, new, 1))


def reload_and_expect(pattern: str, count: int) -> None:
    """``systemctl reload``; wait for the ``count``-th log line matching ``pattern``."""
    sh("systemctl", "reload", "edgecam.service")
    wait(f"{pattern!r} x{count}", lambda: len(re.findall(pattern, journal())) >= count)


def install_and_start() -> None:
    # The one change to the shipped unit: a shorter watchdog, so the SIGSTOP step takes 10 s.
    dropin = Path("/etc/systemd/system/edgecam.service.d")
    dropin.mkdir(parents=True)
    (dropin / "test.conf").write_text("[Service]\nWatchdogSec=10s\n")
    log("install as the README says, from a clone in /home/pi")
    sh(str(CLONE / "systemd/install.sh"), "--start", cwd=CLONE)
    wait("the service to be active with a status", active_with_status)
    assert Path("/opt/edgecam/bin/edgecam").is_file()
    assert "/opt/edgecam/bin/edgecam run" in show("ExecStart")
    log(f"active: {show('StatusText')}")


def check_priorities() -> None:
    pid = show("MainPID")
    nice = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        nice[task.name] = int(fields[16])  # stat field 19: nice
    log(f"thread niceness: {sorted(nice.values())}")
    assert nice[pid] == 0, nice  # the main (pipeline) thread keeps its priority
    # The demo clip's capture thread (and the decoder threads it started) at nice +5: a
    # recording paced in real time, like a live camera (+10 is for unpaced recordings).
    assert sorted(set(nice.values())) == [0, 5], nice
    assert "cannot lower the capture threads' priority" not in journal()


MAX_CAMERAS = 8
"""The most cameras docs/cameras.md allows (the config refuses more)."""


def unit_tasks() -> int:
    """The unit's tasks: systemd's TasksCurrent, else its main process's threads in /proc.

    A container without the pids controller has systemd report ``[not set]`` (and not enforce
    ``TasksMax=``); the service is one process, so its threads are the unit's tasks.
    """
    current = show("TasksCurrent")
    if current.isdigit():
        return int(current)
    try:
        return len(list(Path(f"/proc/{show('MainPID')}/task").iterdir()))
    except FileNotFoundError:  # restarting
        return 0


def most_cameras_within_tasks_max() -> None:
    """The documented maximum of cameras, each with clips: running, threads within TasksMax."""
    original = CONFIG.read_text()
    source = "{type: file, path: /var/lib/edgecam/demo.mp4, loop: true, pace: realtime}"
    cameras = "".join(f"  cam{i}:\n    source: {source}\n    fps: 5\n" for i in range(MAX_CAMERAS))
    with socket.socket() as probe:  # the host's network: 8080 may be taken there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    CONFIG.write_text(
        "device: {name: edgecam}\ncameras:\n" + cameras + "rules:\n"
        "  - {name: person, kind: presence, labels: [person], clip: {pre: 5s, post: 5s}}\n"
        f'http: {{listen: "127.0.0.1:{port}"}}\n'
    )
    sh("systemctl", "restart", "edgecam.service")
    wait("the service with the most cameras to be active", active_with_status)
    limit, peak, threads = int(show("TasksMax")), 0, 0
    log(f"TasksMax {limit}, TasksCurrent as systemd reports it: {show('TasksCurrent')}")
    end = time.monotonic() + 45.0
    while time.monotonic() < end:
        assert show("ActiveState") == "active", journal()[-3000:]
        peak = max(peak, unit_tasks())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
            found = re.search(r"^edgecam_threads (\S+)$", reply.read().decode(), re.M)
        threads = max(threads, int(float(found.group(1)))) if found else threads
        time.sleep(0.5)
    clips = list(Path("/var/lib/edgecam/events").rglob("*.mp4"))
    # Every camera keeps a clip ring with its encoder thread from its first frame on.
    recording = journal().count("clips by encoding decoded frames")
    log(
        f"{MAX_CAMERAS} cameras with clips: peak tasks {peak}, peak edgecam_threads {threads}, "
        f"TasksMax {limit}, {recording} camera(s) recording, {len(clips)} clip(s) written"
    )
    assert 0 < max(peak, threads) <= limit, (threads, peak, limit)
    assert recording >= MAX_CAMERAS, recording
    assert "Resource temporarily unavailable" not in journal()  # no thread refused
    CONFIG.write_text(original)
    sh("systemctl", "restart", "edgecam.service")
    wait("the service to be active again", active_with_status)
    # These two restarts are the test's: they must not count toward the unit's StartLimitBurst,
    # which the watchdog step below relies on.
    sh("systemctl", "reset-failed", "edgecam.service")


def bad_reloads() -> None:
    pid = show("MainPID")
    good = CONFIG.read_text()
    truncated = Path("/var/lib/edgecam/truncated.tflite")
    models = next(Path("/opt/edgecam/lib").glob("python3*/site-packages/edgecam/models"))
    model = models / "mobilenet_ssd_v2_coco_quant_postprocess.tflite"  # the CPU build
    truncated.write_bytes(model.read_bytes()[:200_000])
    truncated.chmod(0o644)
    bad = {
        "an invalid config": "rules: [{name: x, kind: presence, min_score: 7}]\n",
        "a missing model": "model: {path: /var/lib/edgecam/missing.tflite}\n",
        "a corrupt model": f"model: {{path: {truncated}}}\n",
    }
    for count, (what, extra) in enumerate(bad.items(), start=1):
        key = extra.split(":", 1)[0]
        CONFIG.write_text(re.sub(rf"(?m)^{key}:.*\n(  .*\n)*", "", good) + extra)
        reload_and_expect("reload failed", count)
        assert show("MainPID") == pid and show("NRestarts") == "0", what
        wait("active again", lambda: show("ActiveState") == "active")
        log(f"reload with {what}: refused, same PID {pid}")
    CONFIG.write_text(good)


def mqtt_with_credential(broker: Broker) -> None:
    log("mqtt: the password through LoadCredential, the broker requires it")
    Path("/etc/edgecam/mqtt-password").write_text(PASSWORD + "\n")
    CONFIG.write_text(
        CONFIG.read_text()
        + f"mqtt:\n  host: 127.0.0.1\n  port: {broker.port}\n  username: edgecam\n"
        "  password_file: /run/credentials/edgecam.service/mqtt-password\n"
    )
    subprocess.Popen(
        [VENV_PYTHON, "-c", SUBSCRIBER, str(broker.port), *READER, str(OUT / "mqtt.jsonl")]
    )
    sh("systemctl", "restart", "edgecam.service")  # credentials are loaded at start
    wait("active after the restart", active_with_status)
    wait("online", lambda: ("edgecam/edgecam/availability", "online") in messages())
    wait("events over MQTT", lambda: bool(event_ids()))
    log(f"online, {len(event_ids())} event(s) received")


def outbox_survives_a_restart(broker: Broker) -> None:
    broker.stop()
    log("broker stopped; waiting for events to wait in the outbox")

    def pending() -> set[str]:
        with sqlite3.connect(f"file:{OUTBOX}?mode=ro", uri=True) as db:
            return {row[0] for row in db.execute("SELECT event_id FROM pending")}

    wait("pending events", lambda: len(pending() - event_ids()) >= 2, 120)
    waiting = pending() - event_ids()
    sh("systemctl", "restart", "edgecam.service")
    wait("active after the restart", active_with_status)
    assert waiting <= pending(), "the outbox lost events over a restart"
    log(f"{len(waiting)} event(s) kept over the restart; broker back")
    broker.start()
    wait("the kept events delivered", lambda: waiting <= event_ids(), 60)


def watchdog_restarts_a_frozen_process() -> None:
    pid, restarts = show("MainPID"), int(show("NRestarts"))
    os.kill(int(pid), signal.SIGSTOP)
    log(f"SIGSTOP {pid}")
    wait("a new main process", lambda: show("MainPID") not in ("0", pid), 60)
    wait("active again", active_with_status)
    assert int(show("NRestarts")) == restarts + 1
    assert "Watchdog timeout" in sh("journalctl", "--no-pager", "-o", "cat", check=False)
    log(f"watchdog restarted it as {show('MainPID')}")


def stop_publishes_offline() -> None:
    before = len(messages())
    sh("systemctl", "stop", "edgecam.service")
    wait("offline", lambda: ("edgecam/edgecam/availability", "offline") in messages()[before:], 30)
    assert show("Result") == "success", show("Result")
    assert "MQTT: disconnected" in journal()  # its own offline, not the broker's last will
    log("stopped: offline published")


def upgrade_in_place() -> None:
    pid = show("MainPID")
    kept = CONFIG.read_text()
    sh(str(CLONE / "systemd/install.sh"), cwd=CLONE)  # again, as after a git pull
    wait("a restart onto the reinstalled venv", lambda: show("MainPID") not in ("0", pid))
    wait("active after the upgrade", active_with_status)
    assert CONFIG.read_text() == kept, "the upgrade changed the config"
    log(f"upgraded in place and restarted as {show('MainPID')}")


def uninstall_and_purge() -> None:
    sh(str(CLONE / "systemd/install.sh"), "--uninstall", cwd=CLONE)
    assert show("LoadState") == "not-found" and not Path("/opt/edgecam").exists()
    assert CONFIG.is_file() and OUTBOX.is_file(), "--uninstall must keep config and state"
    sh(str(CLONE / "systemd/install.sh"), "--purge", cwd=CLONE)
    assert not Path("/etc/edgecam").exists() and not Path("/var/lib/edgecam").exists()
    log("uninstalled (config and state kept), then purged")


def main() -> int:
    """Run every step; 0 if all passed."""
    try:
        install_and_start()
        check_priorities()
        most_cameras_within_tasks_max()
        # A line across the plaza and a rule counting the people who cross it.
        line = "    lines: {crossing: {points: [[0.45, 0.25], [0.45, 0.65]]}}\n"
        edit_config("    fps: 5\n", "    fps: 10\n" + line)
        rule = "  - {name: crossing, kind: line, line: crossing, labels: [person]}\n"
        edit_config("rules:\n", "rules:\n" + rule)
        reload_and_expect(r"reload done: applied cameras, rules", 1)
        log(f"good reload applied, PID {show('MainPID')}")
        bad_reloads()
        broker = Broker(Path("/var/tmp"))
        broker.start()
        mqtt_with_credential(broker)
        outbox_survives_a_restart(broker)
        watchdog_restarts_a_frozen_process()
        upgrade_in_place()
        stop_publishes_offline()
        uninstall_and_purge()
        (OUT / "result").write_text("ok\n")
        return 0
    except BaseException:
        (OUT / "result").write_text(traceback.format_exc())
        return 1
    finally:
        (OUT / "journal.txt").write_text(journal())


if __name__ == "__main__":
    sys.exit(main())
