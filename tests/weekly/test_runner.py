"""The scheduler thread inside `reflect run`, and the team lead's App Home section."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import pytest

from bot.engine.people import Person
from bot.settings import Settings
from bot.slack.views import weekly_home
from bot.weekly.actions import WeeklyActions
from bot.weekly.runner import ReminderRunner, Scheduler
from tests.weekly.harness import World

UTC = dt.UTC
FRIDAY_4PM = dt.datetime(2026, 10, 30, 16, tzinfo=UTC)


def _scheduler(world: World, *, interval: float) -> Scheduler:
    def build(sleep: Callable[[float], None], should_stop: Callable[[], bool]) -> ReminderRunner:
        return world.runner(sleep=sleep, interval=interval, should_stop=should_stop)

    return Scheduler(build=build, clock=world.clock, poll=dt.timedelta(seconds=0.05))


def _wait_for(condition: Callable[[], bool], *, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_scheduler_thread_sends_what_is_due_and_stops_cleanly(world: World) -> None:
    users = world.team(3)
    world.clock.set(FRIDAY_4PM)
    scheduler = _scheduler(world, interval=0.001)
    scheduler.start()
    try:
        _wait_for(lambda: sum(world.workspace.reminder_counts().values()) == 3)
        _wait_for(lambda: scheduler.rounds >= 3)  # later rounds send nothing more
    finally:
        assert scheduler.stop(timeout=5)
    assert not scheduler.running
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)


def test_stop_cuts_a_long_wait_short(world: World) -> None:
    world.team(3)
    world.clock.set(FRIDAY_4PM)
    scheduler = _scheduler(world, interval=3600)  # an hour between posts
    scheduler.start()
    _wait_for(lambda: sum(world.workspace.reminder_counts().values()) == 1)
    began = time.monotonic()
    assert scheduler.stop(timeout=5)
    assert time.monotonic() - began < 5
    # What was not sent stays in the ledger, unclaimed, for the next start.
    assert sum(world.workspace.reminder_counts().values()) == 1
    rows = world.query("SELECT state, attempts FROM reminder_ledger ORDER BY state").fetchall()
    assert [(row["state"], row["attempts"]) for row in rows] == [
        ("due", 0),
        ("due", 0),
        ("sent", 1),
    ]


class Reflected:
    """Stands in for the store's people_who_reflected (bot.store.sqlite)."""

    def __init__(self, people: set[str]) -> None:
        self.people = people
        self.asked: list[tuple[dt.datetime, dt.datetime]] = []

    def people_who_reflected(
        self, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
    ) -> set[str]:
        self.asked.append((since, until))
        return set(self.people)


def _lead_home(world: World, reflected: Reflected) -> str:
    weekly = WeeklyActions(
        db=world.store,
        keyring=world.keyring,
        slack=world.slack(),
        settings=Settings(min_group_size=5),
        clock=world.clock,
        reflected=reflected,
    )
    blocks = weekly_home.blocks(weekly.home(Person(id="T1:ULEAD")))
    return json.dumps([block.to_dict() for block in blocks])


def test_the_lead_sees_how_many_took_part_last_week_never_who(world: World) -> None:
    users = world.team(11)
    world.run_until(FRIDAY_4PM + dt.timedelta(hours=1))
    world.clock.set(dt.datetime(2026, 11, 3, 9, tzinfo=UTC))  # the Tuesday after
    took_part = {world.pseudonym(user) for user in users[:6]} | {"someone-not-in-the-team"}
    home = _lead_home(world, Reflected(took_part))
    assert "<#C1>" in home and "on, Friday 16:00" in home
    assert "6 people took part last week" in home
    assert "U000" not in home


@pytest.mark.parametrize(
    ("took_part", "said", "unsaid"),
    [
        (6, "At least 5 people took part", "6"),  # near everyone: the rest would be countable
        (4, "Fewer than 5 people took part", "4"),  # fewer than the minimum group
    ],
)
def test_small_or_near_complete_counts_are_not_shown_as_numbers(
    world: World, took_part: int, said: str, unsaid: str
) -> None:
    users = world.team(8)
    world.run_until(FRIDAY_4PM + dt.timedelta(hours=1))
    world.clock.set(dt.datetime(2026, 11, 3, 9, tzinfo=UTC))
    home = _lead_home(world, Reflected({world.pseudonym(user) for user in users[:took_part]}))
    assert said in home
    assert unsaid not in home.replace("16:00", "").replace("C1", "")


def test_people_who_are_not_leads_and_never_opted_out_see_no_section(world: World) -> None:
    world.team(2)
    weekly = WeeklyActions(
        db=world.store,
        keyring=world.keyring,
        slack=world.slack(),
        settings=Settings(),
        clock=world.clock,
    )
    assert not weekly.home(Person(id="T1:U0000"))
    assert weekly_home.blocks(weekly.home(Person(id="T1:U0000"))) == []


def test_finished_ledger_rows_older_than_the_retention_period_are_removed(world: World) -> None:
    world.team(3)
    world.run_until(FRIDAY_4PM + dt.timedelta(hours=1))
    runner = world.runner(keep_for=dt.timedelta(days=30))
    count = "SELECT COUNT(*) AS n FROM reminder_ledger"
    world.clock.set(FRIDAY_4PM + dt.timedelta(days=29))
    runner.run_once()
    assert world.query(count).fetchone()["n"] >= 3
    world.clock.set(FRIDAY_4PM + dt.timedelta(days=31))
    runner.run_once()
    rows = world.query("SELECT due_at FROM reminder_ledger").fetchall()
    cutoff = world.clock() - dt.timedelta(days=30)
    assert rows and all(
        dt.datetime.fromisoformat(row["due_at"]) >= cutoff for row in rows
    )  # later weeks are kept
