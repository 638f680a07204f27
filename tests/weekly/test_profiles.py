"""Profile lookups that scale: one users.list pass (pages of 200, within its tier) instead of
one users.info per recipient, kept in the store for a day and shared by every process; the
deactivated are remembered there too. The fake Slack enforces Slack's per-method limits on the
test's clock, so the simulated time planning takes is what it would take against Slack."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.weekly.due import WeeklyTime
from bot.weekly.profiles import Profiles
from tests.slack.fake_slack import User
from tests.weekly.harness import World

#: Monday 26 October 2026 09:00 UTC: nobody's Friday reminder is due yet.
MONDAY_9AM = dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney")


def _people(world: World, size: int) -> list[str]:
    """`size` people in teams of 100 (size / 100 teams), across four zones."""
    users = [f"U{number:06d}" for number in range(size)]
    for number, user in enumerate(users):
        world.workspace.add_user(User(user, tz=ZONES[number % len(ZONES)]))
    for team in range(0, size, 100):
        channel = f"C{team // 100:05d}"
        world.workspace.add_channel(channel, users[team : team + 100])
        world.switch_on(channel, when=WeeklyTime(day=4, time=dt.time(16, 0)))
    return users


@pytest.mark.parametrize("size", [2_000, pytest.param(20_000, marks=pytest.mark.bench)])
def test_planning_thousands_takes_minutes_of_slacks_limits_not_hours(
    world: World, size: int
) -> None:
    _people(world, size)
    world.clock.set(MONDAY_9AM)
    began = world.clock()
    world.runner().planner.plan(now=world.clock())
    took = world.clock() - began
    pages = world.workspace.calls("users.list")
    assert not world.workspace.calls("users.info")  # nobody looked up one by one
    assert len([call for call in pages if not call.faulted]) == size // 200
    assert all(int(call.args["limit"]) == 200 for call in pages)
    # users.list is tier 2 (20 a minute): size / 200 pages; conversations.members, tier 4
    # (100 a minute), once per team. One users.info each would be size / 100 minutes.
    assert took <= dt.timedelta(minutes=size / 200 / 20 + size / 100 / 100 + 2), took
    assert took < dt.timedelta(minutes=size / 100) / 10
    stored = world.query("SELECT count(*) AS n FROM reminder_profiles")[0]["n"]
    assert stored == size


def test_profiles_are_kept_for_a_day_and_shared_by_every_runner(world: World) -> None:
    users = _people(world, 100)
    world.workspace.users[users[0]].deleted = True  # deactivated
    world.clock.set(MONDAY_9AM)
    world.runner().planner.plan(now=world.clock())
    assert len(world.workspace.calls("users.list")) == 1
    # Another process (its own memory) knows them all from the store, the deactivated too.
    other = Profiles(world.store)
    other.load()
    gone = other.cached(world.pseudonym(users[0]))
    assert gone is not None and gone.deleted
    kept = other.cached(world.pseudonym(users[1]))
    assert kept is not None and kept.tz == ZONES[1]
    world.clock.set(MONDAY_9AM + dt.timedelta(hours=12))
    world.runner().planner.plan(now=world.clock())  # a fresh runner: no lookups within a day
    assert len(world.workspace.calls("users.list")) == 1
    assert not world.workspace.calls("users.info")
    world.clock.set(MONDAY_9AM + dt.timedelta(hours=25))  # a day on: looked up again
    world.runner().planner.plan(now=world.clock())
    assert len(world.workspace.calls("users.list")) == 2


def test_the_deactivated_are_not_reminded_after_a_restart(world: World) -> None:
    users = _people(world, 100)
    world.workspace.users[users[3]].deleted = True
    world.clock.set(MONDAY_9AM)
    world.runner().planner.plan(now=world.clock())
    world.clock.set(dt.datetime(2026, 10, 30, 9, tzinfo=dt.UTC))  # Friday, a fresh process
    world.run_until(dt.datetime(2026, 10, 31, tzinfo=dt.UTC))
    counts = world.workspace.reminder_counts()
    assert counts[users[3]] == 0
    assert sum(counts.values()) == 99


def test_a_few_unknown_people_are_looked_up_one_by_one(world: World) -> None:
    users = [f"U{number}" for number in range(5)]
    for user in users:
        world.workspace.add_user(User(user))
    world.workspace.add_channel("C1", users)
    world.switch_on("C1")
    world.clock.set(MONDAY_9AM)
    world.runner().planner.plan(now=world.clock())
    assert len(world.workspace.calls("users.info")) == 5
    assert not world.workspace.calls("users.list")
