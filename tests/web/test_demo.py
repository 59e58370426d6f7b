"""``edgecam run`` without a config prints where to watch the demo."""

from __future__ import annotations

import re
import signal
from pathlib import Path

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


def test_the_demo_keeps_its_events_apart_and_its_times_follow_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    config = demo_config()
    user_store = config.events.model_copy(update={"path": None}).directory(tmp_path)
    assert config.events.directory(tmp_path) == tmp_path / "demo" / "events" != user_store
    source = config.cameras["demo"].source
    assert getattr(source, "start", None) == "opened"  # not the bundled file's mtime
