"""What a notification says and which events make one: templates, cooldown, schedule, config."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from edgecam.notify.config import NotifyConfig
from edgecam.notify.gate import Gate
from edgecam.notify.message import event_fields, render
from edgecam.notify.sink import NotifySink
from edgecam.rules.schedule import zone_of
from tests.notify.notes import event, fire, notify_config, rule
from tests.notify.receivers import HttpReceiver

BERLIN_NOON = 1_780_308_000.0
"""2026-06-01 10:00:00 UTC: 12:00 in Berlin."""


def test_fields_and_rendering() -> None:
    crossing = event(BERLIN_NOON, type="count", zone=None, line="gate", direction="in", count=3)
    fields = event_fields(crossing, zone_of("Europe/Berlin"))
    assert fields["where"] == "crossing gate (in)"
    assert fields["time"] == "12:00:00"
    assert fields["date"] == "2026-06-01"
    assert render("{what} {where} {zone}, {count}", fields) == "person crossing gate (in) , 3"
    assert render("{rule}\n{clip_url}\n", fields) == "porch_person", "blank lines dropped"


@pytest.mark.parametrize(
    ("template", "problem"),
    [("{password}", "unknown field {password}"), ("{label!r}", "no format specs"), ("{", "bad")],
)
def test_bad_templates_are_config_errors(tmp_path: Path, template: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        NotifyConfig.model_validate(
            {"targets": {"p": {"url_file": tmp_path / "u", "title": template}}}
        )


def test_a_rule_firing_100_times_a_minute_cooldown_holds_and_counts(tmp_path: Path) -> None:
    hook = HttpReceiver().start()
    config = notify_config(
        tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/h"}, hook_settings={"cooldown": "20s"}
    )
    sink = NotifySink(config, [rule(["hook"], snapshot=False)])
    sink.start()
    start = time.time()
    try:
        # 100 alerts over one minute of event time (0.6 s apart), fired as fast as they come.
        for n in range(100):
            fire(sink, event(start + 0.6 * n), jpeg=None)
        hook.wait_for(3, timeout=10.0)
        time.sleep(0.3)
    finally:
        sink.close()
        hook.stop()
    assert len(hook.requests) == 3, "one per 20 s: at 0 s, 20.4 s and 40.8 s"
    figures = sink.figures()["hook"]
    assert figures["suppressed_cooldown"] == 97
    assert figures["sent"] == 3


def test_cooldown_is_per_rule_and_camera_and_schedule_suppresses(tmp_path: Path) -> None:
    config = notify_config(
        tmp_path, {"t": "json://127.0.0.1:9/h"},
        t_settings={"cooldown": "1m", "schedule": {"from": "08:00", "to": "18:00",
                                                   "timezone": "Europe/Berlin"}},
    )  # fmt: skip
    gate = Gate(config.targets)
    assert gate.decide("t", event(BERLIN_NOON), BERLIN_NOON) == "send"
    assert gate.decide("t", event(BERLIN_NOON + 1), BERLIN_NOON + 1) == "cooldown"
    other = event(BERLIN_NOON + 1, camera="yard")
    assert gate.decide("t", other, BERLIN_NOON + 1) == "send"
    night = BERLIN_NOON + 9 * 3600  # 21:00 in Berlin
    assert gate.decide("t", event(night), night) == "schedule"
    assert gate.decide("t", event(BERLIN_NOON + 61, type="end"), BERLIN_NOON + 61) == "type"
    assert gate.suppressed == {("t", "cooldown"): 1, ("t", "schedule"): 1}


def test_the_docs_example_validates() -> None:
    import re

    from edgecam.config import parse_config

    doc = Path(__file__).parents[2] / "docs" / "notify.md"
    block = re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)[0]
    camera = "cameras:\n  porch: {source: {type: file, path: x.avi}, zones: {walkway: {polygon: "
    config = parse_config(camera + "[[0, 0], [1, 0], [1, 1]]}}}\n" + block, "notify.md")
    assert config.notify.targets["phone"].cooldown == 120.0
    assert config.rules[0].notify == ["phone"]


def test_the_docs_example_urls_parse() -> None:
    import re

    from edgecam.notify.targets import url_problem

    doc = (Path(__file__).parents[2] / "docs" / "notify.md").read_text()
    urls = re.findall(r"echo '([^']+)'", doc)
    assert len(urls) >= 4
    assert {url: url_problem(url) for url in urls} == dict.fromkeys(urls)


def test_cooldowns_outlive_a_restart(tmp_path: Path) -> None:
    hook = HttpReceiver().start()
    config = notify_config(
        tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/h"}, hook_settings={"cooldown": "1m"}
    )
    start = time.time()
    try:
        first = NotifySink(config, [rule(["hook"], snapshot=False)])
        first.start()
        fire(first, event(start), jpeg=None)
        hook.wait_for(1, timeout=5.0)
        first.close()
        again = NotifySink(config, [rule(["hook"], snapshot=False)])  # as after a restart
        again.start()
        fire(again, event(start + 10), jpeg=None)  # within the minute: held back
        fire(again, event(start + 61), jpeg=None)
        hook.wait_for(2, timeout=5.0)
        again.close()
    finally:
        hook.stop()
    assert len(hook.requests) == 2
    assert again.figures()["hook"]["suppressed_cooldown"] == 1
