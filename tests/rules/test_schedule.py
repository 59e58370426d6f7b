"""Schedules: days, windows across midnight, DST changes, and rules armed and disarmed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from edgecam.rules.schedule import ResetConfig, ScheduleConfig
from tests.rules.scripted import brief, engine, every, obj, run

BERLIN = ZoneInfo("Europe/Berlin")


def wall(text: str, tz: ZoneInfo = BERLIN) -> float:
    """Epoch seconds of a local time ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def utc(text: str) -> float:
    return wall(text, ZoneInfo("UTC"))


def schedule(**fields: object) -> ScheduleConfig:
    return ScheduleConfig.model_validate({"timezone": "Europe/Berlin", **fields})


@pytest.mark.parametrize(
    ("local", "armed"),
    [
        ("2024-03-15 21:59", False),  # a Friday, before the window
        ("2024-03-15 22:00", True),
        ("2024-03-16 05:59", True),  # Saturday morning still belongs to Friday's window
        ("2024-03-16 06:00", False),
        ("2024-03-16 23:00", False),  # Saturday is not a scheduled day
        ("2024-03-15 05:00", False),  # Friday morning belongs to Thursday, not scheduled
    ],
)
def test_window_across_midnight(local: str, armed: bool) -> None:
    night = schedule(days=["fri"], **{"from": "22:00", "to": "06:00"})
    assert night.armed(wall(local)) is armed


def test_dst_changes_keep_local_times() -> None:
    office = schedule(days=["sun"], **{"from": "08:00", "to": "18:00"})
    # Spring forward (2024-03-31): 08:00 CEST is 06:00 UTC.
    assert not office.armed(utc("2024-03-31 05:59"))
    assert office.armed(utc("2024-03-31 06:00"))
    assert office.armed(utc("2024-03-31 15:59")) and not office.armed(utc("2024-03-31 16:00"))
    # Fall back (2024-10-27): 08:00 CET is 07:00 UTC.
    assert not office.armed(utc("2024-10-27 06:59"))
    assert office.armed(utc("2024-10-27 07:00"))
    # A window inside the skipped hour is simply empty that night; inside the repeated hour,
    # both passes of 02:30 are armed.
    small = schedule(**{"from": "02:00", "to": "03:00"})
    assert not any(small.armed(utc("2024-03-31 00:59") + 60 * m) for m in range(1, 120))
    assert small.armed(utc("2024-10-27 00:30")) and small.armed(utc("2024-10-27 01:30"))


def test_defaults_arm_all_day_every_day_and_yaml_minutes() -> None:
    always = schedule()
    assert all(always.armed(wall("2024-01-01 00:00") + h * 3600.0) for h in range(24 * 7))
    # Unquoted 08:00 in YAML 1.1 arrives as the integer 480.
    assert schedule(**{"from": 480, "to": "24:00"}).start == "08:00"


def test_reset_periods() -> None:
    daily = ResetConfig(every="daily", at="04:00", timezone="Europe/Berlin")
    assert daily.period(wall("2024-03-15 03:59")) != daily.period(wall("2024-03-15 04:00"))
    assert daily.period(wall("2024-03-15 04:00")) == daily.period(wall("2024-03-16 03:59"))
    weekly = ResetConfig(every="weekly", timezone="Europe/Berlin")
    assert weekly.period(wall("2024-03-17 23:59")) != weekly.period(wall("2024-03-18 00:00"))
    hourly = ResetConfig(every="hourly", at="00:30", timezone="UTC")
    assert hourly.period(utc("2024-03-15 10:29")) != hourly.period(utc("2024-03-15 10:30"))


def test_rule_armed_at_night_ends_its_state_when_the_window_closes() -> None:
    rule = {
        "name": "night", "kind": "presence", "off_delay": "1m",
        "schedule": {"from": "22:00", "to": "06:00", "timezone": "Europe/Berlin"},
    }  # fmt: skip
    eng = engine([rule])
    person = obj(0.5, 0.5)
    # 21:58 to 22:03 and 05:58 to 06:02 Berlin, one frame a minute, a person always there.
    start = wall("2024-03-15 21:58")
    script = every(60.0, 300.0, [person]) + every(60.0, 29040.0, [person], 28800.0)
    events = run(eng, script, wall0=start)
    assert brief(events) == [("start", 2), ("end", 7)]


def test_absence_timer_starts_when_armed() -> None:
    rule = {
        "name": "no_car", "kind": "absence", "labels": ["car"], "for": "10m",
        "schedule": {"days": ["mon"], "from": "08:00", "to": "18:00", "timezone": "Europe/Berlin"},
    }  # fmt: skip
    eng = engine([rule])
    # Monday 2024-03-18, 07:00 to 08:30 Berlin, a frame every minute, never a car.
    events = run(eng, every(60.0, 5400.0, []), wall0=wall("2024-03-18 07:00"))
    assert brief(events) == [("start", 70)]  # armed at 08:00 (frame 60), absent 10 min later
