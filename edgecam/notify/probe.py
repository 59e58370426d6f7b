"""``edgecam notify test TARGET``: one test message with a test image, sent right away."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from edgecam.errors import ConfigError
from edgecam.notify.config import NotifyConfig
from edgecam.notify.targets import Sender, read_url, url_problem


def test_image() -> bytes:
    """A JPEG to send: the first frame of the bundled demo clip, captioned."""
    import cv2

    from edgecam.bundled import demo_clip

    capture = cv2.VideoCapture(str(demo_clip()))
    try:
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok:
        raise ConfigError(f"cannot read the bundled demo clip {demo_clip()}; reinstall edgecam")
    cv2.putText(frame, "edgecam test", (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 255, 255), 2)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ConfigError("cannot encode the test image")
    return bytes(data.tobytes())


def send_test(config: NotifyConfig, target: str, device: str) -> tuple[bool, str]:
    """Send one test message to ``target``: (accepted, one line saying what happened)."""
    if target not in config.targets:
        known = ", ".join(sorted(config.targets)) or "none"
        raise ConfigError(f"no notify target {target!r} in the config; known: {known}")
    settings = config.targets[target]
    key = f"notify.targets.{target}.url_file "
    url = read_url(settings.url_file, key)
    if (why := url_problem(url)) is not None:
        raise ConfigError(f"{key}{settings.url_file}: {why}")
    sender = Sender(target, url)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edgecam-notify-") as temp:
        image = Path(temp) / "edgecam-test.jpg"
        image.write_bytes(test_image())
        attach = image if settings.attach and sender.takes_attachments else None
        why = sender.send(
            f"edgecam test from {device}" if device else "edgecam test",
            f"A test message from edgecam to the notify target {target}.",
            attach,
        )
    took = time.monotonic() - started
    if why is None:
        pic = "with" if attach is not None else "without (the service takes no attachments)"
        return True, f"notify {target}: sent in {took:.1f} s, {pic} the test image"
    return False, f"notify {target}: not sent ({why})"
