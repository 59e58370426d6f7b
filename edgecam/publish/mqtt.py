"""The MQTT sink: events through the durable outbox to the broker, plus states, stats, commands.

Threads: the pipeline calls ``emit`` (outbox write, then a wake-up), paho's network thread only
hands work over (:mod:`edgecam.publish.client`), and one publisher thread owns the paho client's
publishing, the in-flight table and the retained states.

Order: the publisher hands paho at most ``window`` unacknowledged events, oldest first. paho
resends the unacknowledged ones itself after a reconnect, so the publisher sends nothing new until
those are acknowledged; after a restart the outbox is resent from its oldest event. An event can
thus arrive twice (same id) but never out of order or not at all.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgecam import __version__
from edgecam.event import Event
from edgecam.publish.client import (
    Acked,
    ClientWork,
    Connected,
    ConnectFailed,
    Disconnected,
    Received,
    SocketOpened,
    create_client,
)
from edgecam.publish.config import MqttConfig
from edgecam.publish.credentials import read_password
from edgecam.publish.homeassistant import DiscoveryMessage, discovery_messages
from edgecam.publish.outbox import Outbox, default_outbox_path
from edgecam.publish.retained import RetainedState
from edgecam.publish.topics import (
    OFF,
    ON,
    ONLINE,
    RuleLike,
    RuleTarget,
    Topics,
    attributes_for_event,
    event_payload,
    parse_switch,
    retained_for_event,
    rule_targets,
    stats_payload,
)
from edgecam.ratelimit import RateLimitedLog

if TYPE_CHECKING:
    from paho.mqtt.client import Client


log = logging.getLogger(__name__)

DetectHandler = Callable[[str, bool], None]
"""Called with (camera, enabled) when a ``detect/set`` command arrives."""

_AUTH_REASONS = ("bad user name or password", "not authorized", "bad username or password")


@dataclass(frozen=True, slots=True)
class _Retain:
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class _Stats:
    stats: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class _Wake:
    pass


@dataclass(frozen=True, slots=True)
class _Close:
    pass


@dataclass(frozen=True, slots=True)
class _Retarget:
    cameras: tuple[str, ...]
    targets: tuple[RuleTarget, ...]


_Work = ClientWork | _Retain | _Stats | _Wake | _Close | _Retarget


class MqttSink:
    """An :class:`~edgecam.publish.base.EventSink` that publishes to an MQTT broker."""

    def __init__(
        self,
        config: MqttConfig,
        device: str,
        cameras: Sequence[str],
        rules: Sequence[RuleLike],
        *,
        outbox: Outbox | None = None,
        on_detect_command: DetectHandler | None = None,
        clock: Callable[[], float] = time.time,
        window: int = 256,
    ) -> None:
        self.config = config
        self.topics = Topics(config.prefix, device)
        self.client_id = config.client_id or f"edgecam-{device}"
        self.on_detect_command = on_detect_command
        """Set by the service once the pipeline exists (commands before that are only echoed)."""
        self._password = read_password(config.password_file) if config.password_file else None
        self._outbox = outbox or Outbox(
            config.outbox.path or default_outbox_path(),
            config.outbox.max_events,
            config.outbox.synchronous,
        )
        self._clock = clock
        self._window = window
        self._queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._retained = RetainedState(
            self.topics, self._outbox, cameras, rule_targets(cameras, rules)
        )
        """Retained states and counts (publisher thread only)."""
        # Per-direction counts seen by emit() (pipeline thread only), to publish their sum.
        self._direction_counts: dict[str, int] = {}
        self._inflight: dict[int, int] = {}
        self._last_seq = 0
        self._connected = False
        self._draining = False
        self._unreachable: str | None = None
        """The reason last logged for failing connection attempts (logged again if it changes)."""
        self._answer_due: float | None = None
        """Monotonic time by which the broker must answer our CONNECT."""
        self._closing_at: float | None = None
        self._noisy = RateLimitedLog(log)
        """Warnings a neighbour on the broker could flood us with (commands, refusals)."""
        self.rejected = 0
        """Events the broker refused (a failure reason code in PUBACK); logged, not resent."""
        self.published = 0
        """Events the broker acknowledged since start."""
        self._client: Client | None = None
        self._worker = threading.Thread(target=self._run, name="edgecam-mqtt", daemon=True)
        try:
            # Here, not in start(): certificates that cannot be loaded fail the sink's build, so
            # a reload with them keeps the running sinks.
            self._client = create_client(
                config, self.client_id, self.topics.availability, self._password,
                self._queue.put,
            )  # fmt: skip
        except BaseException:
            self._outbox.close()
            raise

    @property
    def outbox(self) -> Outbox:
        """The durable outbox (for stats and tests)."""
        return self._outbox

    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start publishing."""
        client = self._client
        assert client is not None  # set in __init__
        user = f" as {self.config.username}" if self.config.username else ""
        log.info(
            "MQTT: connecting to %s:%d%s (client id %s, MQTT %s, TLS %s), %d event(s) pending",
            self.config.host, self.config.effective_port, user, self.client_id,
            self.config.protocol, "on" if self.config.tls else "off", self._outbox.depth,
        )  # fmt: skip
        client.connect_async(
            self.config.host, self.config.effective_port, round(self.config.keepalive)
        )
        client.loop_start()
        self._worker.start()

    # --- EventSink: called from the pipeline thread, never blocks on the network ---

    def emit(self, event: Event) -> None:
        """Store the event in the outbox (in memory if the disk fails), then let it be sent."""
        self._outbox.add(event.id, self.topics.events, event_payload(event), self._clock())
        self._queue.put(_Retain(*attributes_for_event(self.topics, event)))
        for topic, payload in retained_for_event(self.topics, event, self._direction_counts):
            if topic.endswith(("/count/in", "/count/out")):
                self._direction_counts[topic] = int(payload)
            self._queue.put(_Retain(topic, payload))
        self._queue.put(_Wake())

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Publish (retained) the annotated JPEG of the rule's latest event."""
        self._queue.put(_Retain(self.topics.snapshot(camera, rule), jpeg))

    def clip(self, camera: str, rule: str, info: Mapping[str, object]) -> None:
        """Publish (retained) the rule's latest clip: its URL and details, once written."""
        if info.get("status") == "ready":
            payload = json.dumps(dict(info), separators=(",", ":")).encode()
            self._queue.put(_Retain(self.topics.clip(camera, rule), payload))

    def stats(self, stats: Mapping[str, object]) -> None:
        """Publish (retained) the stats merged with the outbox's."""
        self._queue.put(_Stats(dict(stats)))

    def retarget(self, cameras: Sequence[str], rules: Sequence[RuleLike]) -> None:
        """Follow a reload's rules and cameras: discovery and states for the new, stale cleared."""
        self._queue.put(_Retarget(tuple(cameras), tuple(rule_targets(cameras, rules))))

    def close(self) -> None:
        """Flush pending events for up to ``flush_timeout``, publish ``offline``, disconnect."""
        if self._worker.is_alive():
            self._queue.put(_Close())
            self._worker.join(self.config.flush_timeout + 10.0)
        self._outbox.close()

    # --- the publisher thread ---

    def _run(self) -> None:
        while True:
            try:
                if self._step():
                    break
            except Exception:  # keep publishing whatever a single message did
                log.exception("MQTT publisher: unexpected error")
                time.sleep(0.5)
        self._shutdown()

    @property
    def lost(self) -> int:
        """Events neither kept nor sent (the disk and the memory bound were both full)."""
        return self._outbox.lost

    def degraded(self) -> list[str]:
        """Why delivery is at risk right now (empty when all is well), for ``/healthz``."""
        reason = self._outbox.degraded
        return [f"events cannot be stored: {reason}"] if reason else []

    def _step(self) -> bool:
        """Handle the queued work; True when it is time to stop."""
        # While degraded, wake up now and then to try the disk again; and when CONNECT is due.
        timeout = 0.1 if self._closing_at is not None else None
        if self._outbox.degraded is not None:
            timeout = min(timeout or 1.0, 1.0)
        if self._answer_due is not None:
            due = max(0.0, self._answer_due - time.monotonic())
            timeout = due if timeout is None else min(timeout, due)
        try:
            items = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        acked: list[int] = []
        for item in items:
            self._handle(item, acked)
        if self._outbox.degraded is not None:
            self._outbox.recover()
        if self._answer_due is not None and time.monotonic() >= self._answer_due:
            self._no_answer()
        if acked:
            self._outbox.ack_many(acked)
            if self._draining and not self._inflight:
                self._draining = False
        self._fill()
        return self._closing_at is not None and self._flushed()

    def _flushed(self) -> bool:
        assert self._closing_at is not None
        if not self._connected or self._outbox.depth == 0:
            return True
        if time.monotonic() >= self._closing_at:
            log.warning(
                "MQTT: %d event(s) not acknowledged within %.0fs; kept for the next start",
                self._outbox.depth, self.config.flush_timeout,
            )  # fmt: skip
            return True
        return False

    def _acked(self, mid: int, reason: str, failed: bool, acked: list[int]) -> None:
        """The broker answered a PUBACK: the event leaves the outbox, delivered or refused."""
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return
        if failed:
            self.rejected += 1
            self._noisy.error(
                "refused", "MQTT: the broker refused event #%d (%s); dropped", seq, reason
            )
        else:
            self.published += 1
        acked.append(seq)

    def _handle(self, item: _Work, acked: list[int]) -> None:
        match item:
            case Acked(mid, reason, failed):
                self._acked(mid, reason, failed, acked)
            case _Retain(topic, payload):
                self._publish_retained(topic, payload)
            case _Stats(stats):
                self._publish_retained(self.topics.stats, stats_payload(stats, self._own_stats()))
            case Connected(reason, failed):
                self._on_connected(reason, failed)
            case Disconnected(reason):
                self._on_disconnected(reason)
            case ConnectFailed(reason):
                self._answer_due = None
                if reason != self._unreachable:
                    self._unreachable = reason
                    log.warning(
                        "MQTT: cannot connect to the broker at %s:%d: %s; retrying, events "
                        "wait in the outbox",
                        self.config.host, self.config.effective_port, reason,
                    )  # fmt: skip
            case SocketOpened():
                self._answer_due = time.monotonic() + self.config.connect_timeout
            case Received(topic, payload, retain):
                self._on_command(topic, payload, retain)
            case _Close():
                self._closing_at = time.monotonic() + self.config.flush_timeout
            case _Retarget(cameras, targets):
                self._on_retarget(cameras, targets)
            case _Wake():
                pass

    def delivery_metrics(self) -> dict[str, float]:
        """Events acknowledged, pending, and those the outbox could not keep, for ``/metrics``."""
        box = self._outbox
        return {
            "events_published": self.published,
            "events_pending": box.depth,
            "outbox_depth": box.depth,
            "events_lost": box.lost,
            "events_unstored": box.unstored,
            "outbox_degraded": 1.0 if box.degraded else 0.0,
            "outbox_recovered": box.recovered,
            "outbox_salvaged": box.salvaged,
        }

    def _own_stats(self) -> dict[str, object]:
        box = self._outbox
        return {
            "outbox_depth": box.depth,
            "outbox_dropped": box.dropped,
            "outbox_rejected": self.rejected,
            "outbox_lost": box.lost,
            "outbox_unstored": box.unstored,
            "outbox_degraded": box.degraded,
            "outbox_recovered": box.recovered,
            "outbox_salvaged": box.salvaged,
            "mqtt_connected": self._connected,
        }

    def _publish_retained(self, topic: str, payload: bytes) -> None:
        """Keep ``payload`` as the topic's retained value; publish it now if connected."""
        self._retained.set(topic, payload)
        if self._connected and self._client is not None:
            self._retained.publish(self._client, topic, payload)

    def _fill(self) -> None:
        """Hand the next pending events to paho, oldest first, up to the window."""
        client = self._client
        if client is None or not self._connected or self._draining:
            return
        room = self._window - len(self._inflight)
        if room <= 0:
            return
        for message in self._outbox.peek(room, after=self._last_seq):
            info = client.publish(message.topic, message.payload, qos=1)
            # Even when not connected paho keeps a QoS 1 message and sends it on reconnect.
            self._inflight[info.mid] = message.seq
            self._last_seq = message.seq

    def _no_answer(self) -> None:
        """CONNECT went unanswered: say so, naming the broker, and make paho try again."""
        self._answer_due = None
        self._noisy.warning(
            "no-answer",
            "MQTT: the broker at %s:%d accepted the connection but did not answer CONNECT "
            "within %gs (overloaded, or not an MQTT broker on that port?); retrying, events "
            "wait in the outbox",
            self.config.host, self.config.effective_port, self.config.connect_timeout,
        )  # fmt: skip
        sock = self._client.socket() if self._client is not None else None
        if isinstance(sock, socket.socket):  # an ssl.SSLSocket is one too
            # paho sees the connection lost and reconnects with its backoff.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _on_connected(self, reason: str, failed: bool) -> None:
        client = self._client
        assert client is not None
        self._answer_due = None
        if failed:
            hint = (
                "check mqtt.username and mqtt.password_file"
                if reason.lower() in _AUTH_REASONS
                else "check the broker's settings and log"
            )
            log.error(
                "MQTT: the broker at %s:%d refused the connection: %s; %s. Retrying; events wait "
                "in the outbox (%d pending)",
                self.config.host, self.config.effective_port, reason, hint, self._outbox.depth,
            )  # fmt: skip
            return
        self._connected = True
        self._unreachable = None
        self._draining = bool(self._inflight)
        log.info(
            "MQTT: connected to %s:%d, %d event(s) to send",
            self.config.host, self.config.effective_port, self._outbox.depth,
        )  # fmt: skip
        self._retained.publish(client, self.topics.availability, ONLINE)
        self._subscribe(client)
        self._retained.publish_all(client, self._discovery())

    def _on_retarget(self, cameras: Sequence[str], targets: Sequence[RuleTarget]) -> None:
        self._retained.retarget(cameras, targets)
        if self._connected and self._client is not None:
            self._retained.publish_all(self._client, self._discovery())

    def _subscribe(self, client: Client) -> None:
        if self.config.protocol == "5":
            from paho.mqtt.subscribeoptions import SubscribeOptions

            # Retained commands are never wanted: the broker need not even send them.
            options = SubscribeOptions(
                qos=1, noLocal=True, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND
            )
            client.subscribe(self.topics.detect_set_filter, options=options)
        else:
            client.subscribe(self.topics.detect_set_filter, qos=1)

    def _discovery(self) -> list[DiscoveryMessage]:
        """The Home Assistant discovery configs of the current rules (none if disabled)."""
        ha = self.config.home_assistant
        if not ha.discovery:
            return []
        return discovery_messages(
            self.topics, self._retained.cameras, self._retained.targets,
            discovery_prefix=ha.prefix, snapshots=ha.snapshots, version=__version__,
        )  # fmt: skip

    def _on_disconnected(self, reason: str) -> None:
        self._answer_due = None
        if self._connected:
            log.warning(
                "MQTT: connection to %s:%d lost (%s); reconnecting, events wait in the outbox",
                self.config.host, self.config.effective_port, reason,
            )  # fmt: skip
        self._connected = False

    def _on_command(self, topic: str, payload: bytes, retain: bool) -> None:
        camera = self.topics.camera_of_detect_set(topic)
        if camera is None:
            return
        if retain:
            self._noisy.log(
                logging.INFO, "retained", "MQTT: ignoring a retained command on %s "
                "(commands are never retained)", topic,
            )  # fmt: skip
            return
        enabled = parse_switch(payload)
        if enabled is None:
            self._noisy.warning(
                "payload", "MQTT: bad payload %r on %s; expected ON or OFF", payload[:40], topic
            )
            return
        if camera not in self._retained.cameras:
            self._noisy.warning(
                "camera", "MQTT: %s names an unknown camera %r; ignored", topic, camera
            )
            return
        handler = self.on_detect_command
        if handler is not None:
            try:
                handler(camera, enabled)
            except Exception as err:
                log.debug("detect command handler traceback", exc_info=True)
                self._noisy.error(
                    "handler", "MQTT: the detect command failed for camera %s: %s", camera, err
                )
                return
        self._publish_retained(self.topics.detect_state(camera), ON if enabled else OFF)

    def _shutdown(self) -> None:
        client = self._client
        if client is None:
            return
        if self._connected:
            info = client.publish(self.topics.availability, b"offline", qos=1, retain=True)
            # If the connection went away meanwhile, the last will says offline.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        client.disconnect()
        client.loop_stop()
        self._noisy.flush()
        log.info("MQTT: disconnected, %d event(s) left in the outbox", self._outbox.depth)
