"""``edgecam run`` without a config prints where to watch the demo."""

from __future__ import annotations

import re
import signal

import pytest

from edgecam.config.http import HttpConfig
from edgecam.service.app import Service
from edgecam.service.build import Builders
from edgecam.service.demo import demo_config
from edgecam.service.notify import Notifier


def test_the_demo_prints_the_page_url(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 0: another service on this machine may hold the default 8080.
    config = demo_config().model_copy(update={"http": HttpConfig(listen="127.0.0.1:0")})
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        service = Service(
            config, Builders(sinks=lambda _cfg: []), max_frames=5, notifier=Notifier(None)
        )
        stats = service.run()
    finally:  # the service installs its own; pytest's must come back
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert stats.analysed == 5
    err = capsys.readouterr().err
    assert re.search(r"edgecam demo: open http://127\.0\.0\.1:\d+/ to watch it", err), err
