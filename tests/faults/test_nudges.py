"""A weekly nudge run while Slack answers 429, 500, late (a timeout) or drops the connection,
before or after taking effect, at random (seeded), on every method the scheduler calls: each
person still gets exactly one nudge, none is lost, and the ledger ends with every row sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.delivery.reminder_api import ReminderSlack, WebReminderSlack
from bot.weekly.due import WeeklyTime
from bot.weekly.runner import POLL
from tests.fakes import FakeClock
from tests.faults.chaos import CLIENT_TIMEOUT, REMINDER_METHODS, ChaosSlack, Dice
from tests.slack.fake_slack import User
from tests.weekly.harness import World, connect

#: Friday 27 November 2026, 15:00 UTC: an hour before the team's time in London (GMT).
FRIDAY_3PM = dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC)
FRIDAY_4PM = WeeklyTime(day=4, time=dt.time(16, 0))


class ChaosWorld(World):
    """The scheduler's world with a client timeout short enough for late answers to time out."""

    def slack(self) -> ReminderSlack:
        return WebReminderSlack(
            token="xoxb-test",
            base_url=self.api_url,
            timeout=CLIENT_TIMEOUT,  # type: ignore[arg-type]  # urllib takes fractions
        )


@pytest.fixture
def dice() -> Dice:
    return Dice(seed=7, rate=0.25, most_timeouts=4)


@pytest.fixture
def world(tmp_path: Path, dice: Dice) -> Iterator[ChaosWorld]:
    clock = FakeClock(FRIDAY_3PM)
    workspace = ChaosSlack(dice, methods=REMINDER_METHODS)
    workspace.start()
    workspace.clock = clock
    world = ChaosWorld(
        db_path=tmp_path / "reflect.db", workspace=workspace, api_url=workspace.url, clock=clock
    )
    yield world
    world.close()
    workspace.stop()


def run_team(world: ChaosWorld, *, people: int, hours: int = 8) -> tuple[list[str], int]:
    """A team of `people`, due at 16:00 London time; the scheduler polls every 5 minutes, as
    inside `reflect run`, for `hours`. Returns the members and how many nudges were found
    already sent (answers lost after the post)."""
    assert isinstance(world.workspace, ChaosSlack)
    world.workspace.quiet = True  # setting up is not under test
    members = [f"U{number:04d}" for number in range(people)]
    for member in members:
        world.workspace.add_user(User(member, tz="Europe/London"))
    world.workspace.add_channel("CTEAM", members)
    world.switch_on("CTEAM", when=FRIDAY_4PM, at=FRIDAY_3PM - dt.timedelta(days=7))
    world.workspace.quiet = False
    reports = world.run_until(world.clock() + dt.timedelta(hours=hours), step=POLL)
    return members, sum(report.send.found for report in reports)


def ledger_states(world: World) -> dict[str, int]:
    rows = connect(world.db_path).execute(
        "SELECT state, COUNT(*) AS n FROM reminder_ledger GROUP BY state"
    )
    return {row["state"]: row["n"] for row in rows}


def test_every_person_gets_one_nudge_while_slack_fails_at_random(
    world: ChaosWorld, dice: Dice
) -> None:
    members, found = run_team(world, people=60)
    counts = world.workspace.reminder_counts()
    assert {member: counts[member] for member in members} == dict.fromkeys(members, 1)
    assert ledger_states(world) == {"sent": 60}
    assert len(dice.drawn) == 5, dice.drawn  # every kind of failure was met
    assert found >= 1  # a post whose answer was lost was found in the DM, not sent again


@pytest.mark.bench
def test_a_thousand_people_get_one_nudge_each_under_heavier_failures(
    world: ChaosWorld, dice: Dice
) -> None:
    dice.rate = 0.4
    dice.most_timeouts = 20
    members, _ = run_team(world, people=1000, hours=6)
    counts = world.workspace.reminder_counts()
    assert {member: counts[member] for member in members} == dict.fromkeys(members, 1)
    assert ledger_states(world) == {"sent": 1000}
