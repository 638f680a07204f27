"""1,000 people across time zones (120 in the quick suite; 1,000 in `make bench`), over the two
weeks in which Europe and North America change their clocks: each gets exactly one reminder a
week at 16:00 (or the team's time) where they are, over loopback to the fake Slack."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.weekly.due import WeeklyTime
from tests.slack.fake_slack import User
from tests.weekly.harness import World

UTC = dt.UTC
ZONES = (
    "Europe/London",  # clocks go back Sunday 25 October 2026
    "America/New_York",  # clocks go back Sunday 1 November 2026
    "America/Los_Angeles",
    "America/St_Johns",  # UTC-3:30 / -2:30
    "Asia/Kolkata",  # +5:30
    "Asia/Kathmandu",  # +5:45
    "Asia/Tokyo",
    "Australia/Sydney",  # summer time since 4 October
    "Pacific/Chatham",  # +13:45
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
    "Europe/Berlin",
)
START = dt.datetime(2026, 10, 19, 12, tzinfo=UTC)  # Monday of ISO week 43 everywhere
END = dt.datetime(2026, 11, 3, 12, tzinfo=UTC)  # after week 44 has ended everywhere
WEEKS = ("2026-W43", "2026-W44")
FRIDAY_4PM = WeeklyTime(day=4, time=dt.time(16, 0))
SUNDAY_4PM = WeeklyTime(day=6, time=dt.time(16, 0))


def expected_due(zone: ZoneInfo, local: dt.datetime) -> dt.datetime:
    """The UTC instant whose wall-clock time in `zone` is `local`, found by search (an oracle
    independent of the scheduler's arithmetic)."""
    for quarter in range(-14 * 4, 15 * 4):
        candidate = local.replace(tzinfo=UTC) - dt.timedelta(minutes=15 * quarter)
        if candidate.astimezone(zone).replace(tzinfo=None) == local:
            return candidate
    raise AssertionError("no such wall time")


def _local_date(week: str, day: int) -> dt.date:
    year, number = week.split("-W")
    return dt.date.fromisocalendar(int(year), int(number), day + 1)


@pytest.fixture(params=[120, pytest.param(1000, marks=pytest.mark.bench)])
def thousand(world: World, request: pytest.FixtureRequest) -> dict[str, dict[str, object]]:
    size: int = request.param  # every zone, both teams and their overlap at any size
    world.clock.now = START  # back to the week before London changes its clocks
    people: dict[str, dict[str, object]] = {}
    friday, sunday = [], []
    for number in range(size):
        user = f"U{number:05d}"
        zone = ZONES[number % len(ZONES)]
        world.workspace.add_user(User(user, tz=zone))
        teams = []
        if number < size * 7 // 10:
            friday.append(user)
            teams.append("friday")
        if number >= size * 6 // 10:  # a tenth are in both teams
            sunday.append(user)
            teams.append("sunday")
        people[user] = {"zone": ZoneInfo(zone), "teams": teams, "opted_out": False}
    world.workspace.add_channel("CFRIDAY", friday)
    world.workspace.add_channel("CSUNDAY", sunday)
    world.switch_on("CFRIDAY", when=FRIDAY_4PM)
    world.switch_on("CSUNDAY", when=SUNDAY_4PM)
    for user in friday[: size // 20]:  # only in the Friday team, and said "Not for me"
        world.opt_out("CFRIDAY", user)
        people[user]["opted_out"] = True
    return people


def test_each_person_gets_one_reminder_a_week_at_their_local_time(
    world: World, thousand: dict[str, dict[str, object]]
) -> None:
    world.run_until(END)
    counts = world.workspace.reminder_counts()
    rows = world.query(
        "SELECT person, week, state, due_at, updated_at FROM reminder_ledger"
    ).fetchall()
    by_person: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_person.setdefault(row["person"], {})[row["week"]] = row
    for user, facts in thousand.items():
        zone = facts["zone"]
        assert isinstance(zone, ZoneInfo)
        if facts["opted_out"]:
            assert counts[user] == 0, user
            continue
        assert counts[user] == 2, (user, zone)  # one a week, two weeks
        teams = facts["teams"]
        assert isinstance(teams, list)
        day = 4 if "friday" in teams else 6  # the earlier of their teams
        for week in WEEKS:
            row = by_person[world.pseudonym(user)][week]
            local = dt.datetime.combine(_local_date(week, day), dt.time(16, 0))
            due = expected_due(zone, local)
            assert row["state"] == "sent"
            assert dt.datetime.fromisoformat(row["due_at"]) == due, (user, zone, week)
            sent = dt.datetime.fromisoformat(row["updated_at"])
            # Sent at their local time: after it, and within the few minutes pacing takes.
            assert due <= sent <= due + dt.timedelta(minutes=15), (user, zone, week)
    reminded = [user for user, facts in thousand.items() if not facts["opted_out"]]
    assert sum(counts.values()) == 2 * len(reminded)
    # The daylight-saving changes moved the UTC instant, not the local time.
    due_at = {
        (row["person"], row["week"]): dt.datetime.fromisoformat(row["due_at"]) for row in rows
    }
    london = world.pseudonym("U00060")  # Europe/London, Friday team
    new_york_sunday = world.pseudonym(
        next(
            user
            for user, facts in thousand.items()
            if facts["teams"] == ["sunday"] and str(facts["zone"]) == "America/New_York"
        )
    )
    hour = dt.timedelta(hours=1)
    # London: 15:00 UTC in BST (week 43), 16:00 UTC in GMT (week 44).
    assert due_at[(london, "2026-W44")] - due_at[(london, "2026-W43")] == 7 * 24 * hour + hour
    # New York, Sunday 1 November: the clocks went back that very morning, so 21:00 UTC.
    assert due_at[(new_york_sunday, "2026-W44")] == dt.datetime(2026, 11, 1, 21, tzinfo=UTC)
