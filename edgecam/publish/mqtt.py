"""The MQTT sink: events through the durable outbox to the broker, plus states, stats, commands.

Threads: the pipeline calls ``emit`` (outbox write, then a wake-up), paho's network thread only
hands work over (:mod:`edgecam.publish.client`, queued as :mod:`edgecam.publish.work`), and one
publisher thread owns the paho client's publishing, the in-flight table, the retained states and
the link's state (:mod:`edgecam.publish.link`; commands: :mod:`edgecam.publish.commands`).

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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from edgecam import __version__
from edgecam.event import Event
from edgecam.publish.client import (
    Acked,
    Connected,
    ConnectFailed,
    Disconnected,
    Received,
    SocketOpened,
    create_client,
)
from edgecam.publish.commands import read_command
from edgecam.publish.config import MqttConfig
from edgecam.publish.credentials import read_password
from edgecam.publish.homeassistant import DiscoveryMessage, discovery_messages
from edgecam.publish.link import BrokerLink, subscribe
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
    retained_for_event,
    rule_targets,
    stats_payload,
)
from edgecam.publish.work import (
    Close,
    Retain,
    Retarget,
    Stats,
    Wake,
    Work,
    as_metrics,
    as_stats,
    delivery_figures,
)
from edgecam.ratelimit import RateLimitedLog

if TYPE_CHECKING:
    from paho.mqtt.client import Client


log = logging.getLogger(__name__)

DetectHandler = Callable[[str, bool], None]
"""Called with (camera, enabled) when a ``detect/set`` command arrives."""


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
        classified: frozenset[str] = frozenset(),
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
        box = config.outbox
        self._outbox = outbox or Outbox(
            box.path or default_outbox_path(), box.max_events, box.synchronous
        )
        self._clock = clock
        self._window = window
        self._queue: queue.SimpleQueue[Work] = queue.SimpleQueue()
        self._classified = classified  # fixed: a classify: change needs a restart
        self._retained = RetainedState(
            self.topics, self._outbox, cameras, rule_targets(cameras, rules, classified)
        )
        """Retained states and counts (publisher thread only)."""
        # Per-direction counts seen by emit() (pipeline thread only), to publish their sum.
        self._direction_counts: dict[str, int] = {}
        self._inflight: dict[int, int] = {}
        self._last_seq = 0
        self._draining = False
        self._closing_at: float | None = None
        self._noisy = RateLimitedLog(log)
        """Warnings a neighbour on the broker could flood us with (commands, refusals)."""
        self._link = BrokerLink(config, self._noisy)
        """Connected or not, since when, and the lines that say so (publisher thread)."""
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
                config, self.client_id, self.topics.availability, self._password, self._queue.put
            )
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
        self._queue.put(Retain(*attributes_for_event(self.topics, event)))
        for topic, payload in retained_for_event(self.topics, event, self._direction_counts):
            if topic.endswith(("/count/in", "/count/out")):
                self._direction_counts[topic] = int(payload)
            self._queue.put(Retain(topic, payload))
        self._queue.put(Wake())

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """Publish (retained) the annotated JPEG of the rule's latest event."""
        self._queue.put(Retain(self.topics.snapshot(camera, rule), jpeg))

    def clip(self, camera: str, rule: str, info: Mapping[str, object]) -> None:
        """Publish (retained) the rule's latest clip: its URL and details, once written."""
        if info.get("status") == "ready":
            payload = json.dumps(dict(info), separators=(",", ":")).encode()
            self._queue.put(Retain(self.topics.clip(camera, rule), payload))

    def stats(self, stats: Mapping[str, object]) -> None:
        """Publish (retained) the stats merged with the outbox's."""
        self._queue.put(Stats(dict(stats)))

    def retarget(self, cameras: Sequence[str], rules: Sequence[RuleLike]) -> None:
        """Follow a reload's rules and cameras: discovery and states for the new, stale cleared."""
        targets = tuple(rule_targets(cameras, rules, self._classified))
        self._queue.put(Retarget(tuple(cameras), targets))

    def close(self) -> None:
        """Flush for up to ``flush_timeout``, publish ``offline``, disconnect; say what is kept."""
        if self._worker.is_alive():
            self._queue.put(Close())
            self._worker.join(self.config.flush_timeout + 10.0)
        lost = self._outbox.lost
        self._outbox.close()
        lost = self._outbox.lost - lost
        log.info(  # after the outbox's own last word, so the two lines agree
            "MQTT: disconnected; %d event(s) kept in the outbox for the next start%s",
            self._outbox.depth, f", {lost} lost at this stop" if lost else "",
        )  # fmt: skip

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
        reasons = [f"events cannot be stored: {why}"] if (why := self._outbox.degraded) else []
        if (why := self._link.degraded()) is not None:
            reasons.append(why)
        return reasons

    def broker_state(self) -> tuple[str, bool]:
        """``(host:port, connected)`` of the broker, for the ``edgecam_mqtt_connected`` gauge."""
        return self._link.name, self._link.connected

    def _step(self) -> bool:
        """Handle the queued work; True when it is time to stop."""
        # While degraded, wake up now and then to try the disk again; and when CONNECT is due.
        timeout = 0.1 if self._closing_at is not None else None
        if self._outbox.degraded is not None:
            timeout = min(timeout or 1.0, 1.0)
        if self._link.answer_due is not None:
            due = max(0.0, self._link.answer_due - time.monotonic())
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
        self._link.check_answer(self._client)
        if acked:
            self._outbox.ack_many(acked)
            if self._draining and not self._inflight:
                self._draining = False
        self._fill()
        return self._closing_at is not None and self._flushed()

    def _flushed(self) -> bool:
        assert self._closing_at is not None
        if not self._link.connected or self._outbox.depth == 0:
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

    def _handle(self, item: Work, acked: list[int]) -> None:
        match item:
            case Acked(mid, reason, failed):
                self._acked(mid, reason, failed, acked)
            case Retain(topic, payload):
                self._publish_retained(topic, payload)
            case Stats(stats):
                self._publish_retained(
                    self.topics.stats, stats_payload(stats, as_stats(self.figures()))
                )
            case Connected(reason, failed):
                self._on_connected(reason, failed)
            case Disconnected(reason):
                self._link.lost(reason)
            case ConnectFailed(reason):
                self._link.failed(reason)
            case SocketOpened():
                self._link.opened()
            case Received(topic, payload, retain):
                self._on_command(topic, payload, retain)
            case Close():
                self._closing_at = time.monotonic() + self.config.flush_timeout
            case Retarget(cameras, targets):
                self._on_retarget(cameras, targets)
            case Wake():
                pass

    def figures(self) -> dict[str, object]:
        """Delivery figures, the one source of both ``/metrics`` and the ``stats`` topic."""
        return delivery_figures(self._outbox, self.published, self.rejected, self._link.connected)

    def delivery_metrics(self) -> dict[str, float]:
        """Events acknowledged, pending, and those the outbox could not keep, for ``/metrics``."""
        return as_metrics(self.figures())

    def _publish_retained(self, topic: str, payload: bytes) -> None:
        """Keep ``payload`` as the topic's retained value; publish it now if connected."""
        self._retained.set(topic, payload)
        if self._link.connected and self._client is not None:
            self._retained.publish(self._client, topic, payload)

    def _fill(self) -> None:
        """Hand the next pending events to paho, oldest first, up to the window."""
        client = self._client
        if client is None or not self._link.connected or self._draining:
            return
        room = self._window - len(self._inflight)
        if room <= 0:
            return
        for message in self._outbox.peek(room, after=self._last_seq):
            info = client.publish(message.topic, message.payload, qos=1)
            # Even when not connected paho keeps a QoS 1 message and sends it on reconnect.
            self._inflight[info.mid] = message.seq
            self._last_seq = message.seq

    def _on_connected(self, reason: str, failed: bool) -> None:
        client = self._client
        assert client is not None
        if not self._link.answered(reason, failed, self._outbox.depth):
            return
        self._draining = bool(self._inflight)
        self._retained.publish(client, self.topics.availability, ONLINE)
        subscribe(client, self.config, self.topics)
        self._retained.publish_all(client, self._discovery())

    def _on_retarget(self, cameras: Sequence[str], targets: Sequence[RuleTarget]) -> None:
        self._retained.retarget(cameras, targets)
        if self._link.connected and self._client is not None:
            self._retained.publish_all(self._client, self._discovery())

    def _discovery(self) -> list[DiscoveryMessage]:
        """The Home Assistant discovery configs of the current rules (none if disabled)."""
        ha = self.config.home_assistant
        if not ha.discovery:
            return []
        return discovery_messages(
            self.topics, self._retained.cameras, self._retained.targets,
            discovery_prefix=ha.prefix, snapshots=ha.snapshots, version=__version__,
        )  # fmt: skip

    def _on_command(self, topic: str, payload: bytes, retain: bool) -> None:
        command = read_command(
            topic, payload, retain,
            topics=self.topics, cameras=self._retained.cameras, noisy=self._noisy,
        )  # fmt: skip
        if command is None:
            return
        camera, enabled = command
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
        if self._link.connected:
            info = client.publish(self.topics.availability, b"offline", qos=1, retain=True)
            # If the connection went away meanwhile, the last will says offline.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        client.disconnect()
        client.loop_stop()
        self._noisy.flush()
