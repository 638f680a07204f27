"""Due times in each person's own zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.weekly.due import (
    ScheduleError,
    WeeklyTime,
    due_instant,
    parse_day,
    parse_time,
    timing,
    week_key,
    zone,
)

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
FRIDAY_4PM = WeeklyTime(day=4, time=dt.time(16, 0))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_friday_four_pm_in_london_summer_is_three_pm_utc() -> None:
    due = due_instant(when=FRIDAY_4PM, tz=LONDON, now=utc(2026, 10, 19, 9))
    assert due == utc(2026, 10, 23, 15)


def test_the_week_after_clocks_go_back_in_london_it_is_four_pm_utc() -> None:
    # Clocks go back on Sunday 25 October 2026; the Friday after is GMT.
    due = due_instant(when=FRIDAY_4PM, tz=LONDON, now=utc(2026, 10, 26, 0, 30))
    assert due == utc(2026, 10, 30, 16)


def test_new_york_changes_a_week_later_than_london() -> None:
    before = due_instant(when=FRIDAY_4PM, tz=NEW_YORK, now=utc(2026, 10, 28, 12))
    after = due_instant(when=FRIDAY_4PM, tz=NEW_YORK, now=utc(2026, 11, 4, 12))
    assert before == utc(2026, 10, 30, 20)  # EDT, UTC-4
    assert after == utc(2026, 11, 6, 21)  # EST, UTC-5


def test_a_repeated_wall_time_means_the_first_one() -> None:
    sunday_0130 = WeeklyTime(day=6, time=dt.time(1, 30))
    due = due_instant(when=sunday_0130, tz=LONDON, now=utc(2026, 10, 21))
    assert due == utc(2026, 10, 25, 0, 30)  # 01:30 BST, before the clocks go back


def test_a_wall_time_that_does_not_exist_moves_past_the_gap() -> None:
    sunday_0130 = WeeklyTime(day=6, time=dt.time(1, 30))
    due = due_instant(when=sunday_0130, tz=LONDON, now=utc(2026, 3, 25))
    assert due == utc(2026, 3, 29, 1, 30)  # 02:30 BST: an hour later on the wall clock
    assert due.astimezone(LONDON).hour == 2


def test_the_week_is_the_persons_own_week() -> None:
    # Sunday 23:30 UTC is already Monday in Auckland: a new week there, the old one in London.
    now = utc(2026, 10, 25, 23, 30)
    assert week_key(now=now, tz=LONDON) == "2026-W43"
    assert week_key(now=now, tz=ZoneInfo("Pacific/Auckland")) == "2026-W44"


def test_far_east_and_far_west_get_the_same_local_time() -> None:
    now = utc(2026, 11, 2, 12)
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata", "Asia/Kathmandu"):
        tz = ZoneInfo(name)
        due = due_instant(when=FRIDAY_4PM, tz=tz, now=now)
        local = due.astimezone(tz)
        assert (local.weekday(), local.hour, local.minute) == (4, 16, 0), name


def test_late_after_the_configured_hours_early_before() -> None:
    due = utc(2026, 10, 30, 16)
    six = dt.timedelta(hours=6)
    assert timing(due=due, now=due - dt.timedelta(seconds=1), late_after=six) == "early"
    assert timing(due=due, now=due, late_after=six) == "due"
    assert timing(due=due, now=due + six, late_after=six) == "due"
    assert timing(due=due, now=due + six + dt.timedelta(seconds=1), late_after=six) == "late"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        week_key(now=dt.datetime(2026, 1, 1), tz=LONDON)


@pytest.mark.parametrize(
    ("text", "day"), [("fri", 4), ("Friday", 4), ("MONDAYS", 0), ("sun", 6), ("thu", 3)]
)
def test_days_read_as_people_write_them(text: str, day: int) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["", "t", "fr", "someday", "frid4y"])
def test_unknown_days_get_a_clear_message(text: str) -> None:
    with pytest.raises(ScheduleError, match="day of the week"):
        parse_day(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16:00", (16, 0)),
        ("1600", (16, 0)),
        ("4pm", (16, 0)),
        ("4:30pm", (16, 30)),
        ("9", (9, 0)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
    ],
)
def test_times_read_as_people_write_them(text: str, expected: tuple[int, int]) -> None:
    assert parse_time(text) == dt.time(*expected)


@pytest.mark.parametrize("text", ["25:00", "16:60", "13pm", "teatime", ""])
def test_unknown_times_get_a_clear_message(text: str) -> None:
    with pytest.raises(ScheduleError, match="time of day"):
        parse_time(text)


def test_unknown_or_missing_zone_falls_back_to_utc() -> None:
    assert zone(None) == ZoneInfo("UTC")
    assert zone("Mars/Olympus_Mons") == ZoneInfo("UTC")
    assert zone("../../etc/passwd") == ZoneInfo("UTC")
    assert zone("Europe/London") == LONDON


ALL_ZONES = sorted(
    name
    for name in available_timezones()
    if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
)


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ALL_ZONES),
    day=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    now=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2035, 12, 31),
        timezones=st.just(UTC),
    ),
)
def test_the_due_instant_is_that_day_and_time_where_the_person_is(
    zone_name: str, day: int, hour: int, minute: int, now: dt.datetime
) -> None:
    tz = ZoneInfo(zone_name)
    due = due_instant(when=WeeklyTime(day=day, time=dt.time(hour, minute)), tz=tz, now=now)
    assert due.tzinfo is not None
    local_now = now.astimezone(tz)
    monday = local_now.date() - dt.timedelta(days=local_now.weekday())
    wanted = dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(hour, minute))
    got = due.astimezone(tz).replace(tzinfo=None)
    if got != wanted:
        # Only a wall time that does not exist that day (clocks went forward) may move: later,
        # by the gap.
        round_trip = wanted.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        assert round_trip != wanted, (wanted, got)
        assert dt.timedelta(0) < got - wanted <= dt.timedelta(hours=2)
