"""Schedules that arm rules: days of the week and a daily time window in a time zone."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, tzinfo
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field

from edgecam.schema import StrictModel

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def parse_clock(value: object) -> str:
    """Check ``HH:MM`` (``24:00`` allowed as the end of the day); YAML may hand over minutes."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as sexagesimal minutes.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str) or not (m := _CLOCK.match(value.strip())):
        raise ValueError(f'expected a time of day such as "08:00", got {value!r}')
    if int(m.group(1)) == 24 and m.group(2) != "00":
        raise ValueError("the latest time of day is 24:00")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


Clock = Annotated[str, BeforeValidator(parse_clock)]
"""A time of day ``HH:MM``."""


def check_zone(value: str) -> str:
    """Check that ``value`` names an IANA time zone known to this system."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin"
        ) from err
    return value


TimeZoneName = Annotated[str, AfterValidator(check_zone)]
"""An IANA time zone name such as ``Europe/Berlin``."""


def minutes(clock: str) -> int:
    """Minutes since midnight of ``HH:MM``."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def zone_of(name: str | None) -> tzinfo | None:
    """The time zone called ``name``; None means the system's local time zone."""
    return None if name is None else ZoneInfo(name)


def local_time(wall: float, tz: tzinfo | None) -> datetime:
    """Wall-clock epoch seconds as a local date and time in ``tz`` (DST rules applied)."""
    if tz is None:
        return datetime.fromtimestamp(wall).astimezone()
    return datetime.fromtimestamp(wall, tz)


class ScheduleConfig(StrictModel):
    """When a rule is armed: on these days, between ``from`` and ``to`` local time."""

    days: list[Day] = Field(default_factory=lambda: list(DAYS), min_length=1)
    """Days the window starts on, e.g. ``[mon, tue, wed, thu, fri]``."""
    start: Clock = Field(default="00:00", alias="from")
    """Start of the daily window, ``HH:MM`` local time."""
    end: Clock = Field(default="24:00", alias="to")
    """End of the window; earlier than ``from`` means it runs past midnight into the next day."""
    timezone: TimeZoneName | None = None
    """IANA time zone such as ``Europe/Berlin``; default: the system's local time zone."""

    def armed(self, wall: float) -> bool:
        """True when wall-clock time ``wall`` falls inside the schedule."""
        local = local_time(wall, zone_of(self.timezone))
        now = local.hour * 60 + local.minute + local.second / 60.0
        start, end = minutes(self.start), minutes(self.end)
        today = DAYS[local.weekday()]
        if start < end:
            return today in self.days and start <= now < end
        if start == end:
            return today in self.days
        # Past midnight: the evening part belongs to today, the morning part to yesterday.
        yesterday = DAYS[(local - timedelta(days=1)).weekday()]
        return (today in self.days and now >= start) or (yesterday in self.days and now < end)


def any_armed(schedules: list[ScheduleConfig], wall: float) -> bool:
    """True when there is no schedule or one of them is armed."""
    return not schedules or any(s.armed(wall) for s in schedules)


ResetEvery = Literal["never", "hourly", "daily", "weekly"]


class ResetConfig(StrictModel):
    """When counts go back to zero."""

    every: ResetEvery = "never"
    """``never``, ``hourly``, ``daily`` or ``weekly`` (weeks start on Monday)."""
    at: Clock = "00:00"
    """Local time of day of a daily or weekly reset (minutes only for hourly)."""
    timezone: TimeZoneName | None = None
    """IANA time zone of ``at``; default: the system's local time zone."""

    def period(self, wall: float) -> int:
        """A number that changes exactly when a reset is due."""
        if self.every == "never":
            return 0
        local = local_time(wall, zone_of(self.timezone))
        shifted = datetime.combine(local.date(), time(local.hour, local.minute))
        shift = minutes(self.at) % 60 if self.every == "hourly" else minutes(self.at)
        shifted -= timedelta(minutes=shift)
        if self.every == "hourly":
            return shifted.toordinal() * 24 + shifted.hour
        if self.every == "daily":
            return shifted.toordinal()
        return (shifted.toordinal() - shifted.weekday()) // 7
