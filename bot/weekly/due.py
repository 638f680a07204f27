"""When a weekly reminder is due: pure date arithmetic in each person's own time zone.

A team's reminder is set as a weekday and a local time ("Friday 16:00"). Each person gets it at that
time where they are, so the due instant differs per person. Weeks are ISO weeks in the person's
zone. Daylight-saving changes are handled by zoneinfo: a time that does not exist (clocks go
forward) moves forward by the gap; a time that happens twice (clocks go back) is the first one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC

#: Monday is 0, as in `datetime.weekday()`.
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_DAY = 4  # Friday
DEFAULT_TIME = dt.time(16, 0)

_TIME = re.compile(r"^(?P<hour>\d{1,2})(?::?(?P<minute>\d{2}))?\s*(?P<half>am|pm)?$")


class ScheduleError(ValueError):
    """A day or time that cannot be read; the message says what would work."""


@dataclass(frozen=True)
class WeeklyTime:
    """A weekday and a wall-clock time, meant in each person's own time zone."""

    day: int = DEFAULT_DAY
    time: dt.time = DEFAULT_TIME

    def __post_init__(self) -> None:
        if not 0 <= self.day <= 6:
            raise ScheduleError("day must be 0 (Monday) to 6 (Sunday)")

    @property
    def day_name(self) -> str:
        return DAYS[self.day].capitalize()

    def describe(self) -> str:
        return f"{self.day_name} {self.time:%H:%M}"


def parse_day(text: str) -> int:
    """'fri', 'Friday', 'FRIDAYS' -> 4."""
    word = text.strip().lower().rstrip(".")
    if word.endswith("s") and word[:-1] in DAYS:
        word = word[:-1]
    matches = [n for n, name in enumerate(DAYS) if len(word) >= 3 and name.startswith(word)]
    if len(matches) != 1:
        raise ScheduleError(f'"{text}" is not a day of the week (try "friday" or "mon").')
    return matches[0]


def parse_time(text: str) -> dt.time:
    """'16:00', '1600', '4pm', '4:30pm', '9' -> a wall-clock time."""
    match = _TIME.match(text.strip().lower())
    if not match:
        raise ScheduleError(f'"{text}" is not a time of day (try "16:00" or "4pm").')
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    half = match["half"]
    if half:
        if not 1 <= hour <= 12:
            raise ScheduleError(f'"{text}" is not a time of day (try "16:00" or "4pm").')
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f'"{text}" is not a time of day (try "16:00" or "4pm").')
    return dt.time(hour, minute)


def zone(name: str | None) -> ZoneInfo:
    """The person's IANA time zone; UTC when Slack gave none or one we do not know."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def week_key(*, now: dt.datetime, tz: ZoneInfo) -> str:
    """The ISO week `now` falls in, where the person is: '2026-W44'."""
    year, week, _ = _aware(now).astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def due_instant(*, when: WeeklyTime, tz: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """The instant (UTC) of this week's reminder for a person in `tz`, this week being the ISO week
    that `now` falls in where they are. It may be in the past."""
    local_today = _aware(now).astimezone(tz).date()
    monday = local_today - dt.timedelta(days=local_today.weekday())
    local = dt.datetime.combine(monday + dt.timedelta(days=when.day), when.time, tzinfo=tz)
    # zoneinfo gives a non-existent wall time (clocks forward) the offset from before the change,
    # which lands it after the gap; a repeated one (clocks back) gets fold=0, the first of the two.
    return local.astimezone(UTC)


Timing = Literal["early", "due", "late"]


def timing(*, due: dt.datetime, now: dt.datetime, late_after: dt.timedelta) -> Timing:
    """Whether a reminder due at `due` should wait, go now, or be skipped as too late."""
    now = _aware(now)
    if now < due:
        return "early"
    if now - due > late_after:
        return "late"
    return "due"


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be time-zone aware")
    return moment
