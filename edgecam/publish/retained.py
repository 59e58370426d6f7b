"""The retained messages one device keeps on the broker, and the stale ones it clears.

Used from the MQTT publisher's thread only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from edgecam.publish.homeassistant import DiscoveryMessage
from edgecam.publish.outbox import Outbox
from edgecam.publish.topics import ON, RuleTarget, Topics, initial_retained, stale_retained

if TYPE_CHECKING:
    from paho.mqtt.client import Client

log = logging.getLogger(__name__)


class RetainedState:
    """The retained states, counts and switches of the current config, and every topic published.

    ``current`` is published again after every reconnect. ``published`` holds every retained
    topic ever published for this outbox (kept in its database, across restarts), so that the
    ones a new config no longer has can be cleared: an empty retained message deletes the
    broker's copy, and Home Assistant removes the entity of an emptied discovery topic.
    """

    def __init__(
        self, topics: Topics, outbox: Outbox, cameras: Sequence[str], targets: Sequence[RuleTarget]
    ) -> None:
        self.topics = topics
        self._outbox = outbox
        self.current: dict[str, bytes] = {}
        self.published = outbox.retained_topics()
        self.cameras: list[str] = []
        self.targets: list[RuleTarget] = []
        self.retarget(cameras, targets)

    def retarget(self, cameras: Sequence[str], targets: Sequence[RuleTarget]) -> None:
        """Follow new rules and cameras: new rules start OFF, new cameras with detection on."""
        self.cameras, self.targets = list(cameras), list(targets)
        for topic, payload in initial_retained(self.topics, targets):
            self.current.setdefault(topic, payload)
        for camera in cameras:
            self.current.setdefault(self.topics.detect_state(camera), ON)

    def set(self, topic: str, payload: bytes) -> None:
        """Keep ``payload`` as the retained value of ``topic`` (published on every connect)."""
        self.current[topic] = payload

    def publish(self, client: Client, topic: str, payload: bytes) -> None:
        """Publish one retained message (QoS 1) and remember its topic."""
        client.publish(topic, payload, qos=1, retain=True)
        if topic not in self.published:
            self.published.add(topic)
            self._outbox.record_retained([topic])

    def publish_all(self, client: Client, discovery: Sequence[DiscoveryMessage]) -> None:
        """Discovery and every current value, then clear what the config no longer has."""
        for message in discovery:
            self.publish(client, message.topic, message.payload)
        for topic, payload in self.current.items():
            self.publish(client, topic, payload)
        self._clear_stale(client, [message.topic for message in discovery])

    def _clear_stale(self, client: Client, discovery: list[str]) -> None:
        stale = stale_retained(self.topics, self.cameras, self.targets, discovery, self.published)
        if not stale:
            return
        for topic in stale:
            client.publish(topic, b"", qos=1, retain=True)
            self.current.pop(topic, None)
        self.published.difference_update(stale)
        self._outbox.record_retained(stale, published=False)
        log.info(
            "MQTT: cleared %d retained topic(s) the config no longer has (removed or renamed "
            "rules and cameras, their Home Assistant entities)", len(stale),
        )  # fmt: skip
