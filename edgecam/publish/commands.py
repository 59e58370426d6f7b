"""``detect/set`` commands from the broker: which are taken, and bounded lines for the rest.

Anyone on the broker can publish commands, a thousand a second if they like: every line about
them is rate-limited (:class:`~edgecam.ratelimit.RateLimitedLog`), and the pipeline logs a switch
only when it changes something.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from edgecam.publish.topics import Topics, parse_switch
from edgecam.ratelimit import RateLimitedLog


def read_command(
    topic: str,
    payload: bytes,
    retain: bool,
    *,
    topics: Topics,
    cameras: Collection[str],
    noisy: RateLimitedLog,
) -> tuple[str, bool] | None:
    """``(camera, enabled)`` of a valid command, else None (said in a rate-limited line)."""
    camera = topics.camera_of_detect_set(topic)
    if camera is None:
        return None
    if retain:
        noisy.log(
            logging.INFO, "retained", "MQTT: ignoring a retained command on %s "
            "(commands are never retained)", topic,
        )  # fmt: skip
        return None
    enabled = parse_switch(payload)
    if enabled is None:
        noisy.warning(
            "payload", "MQTT: bad payload %r on %s; expected ON or OFF", payload[:40], topic
        )
        return None
    if camera not in cameras:
        noisy.warning("camera", "MQTT: %s names an unknown camera %r; ignored", topic, camera)
        return None
    return camera, enabled
