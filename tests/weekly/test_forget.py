"""Erasure reaches the weekly reminders: `forget` leaves no ledger row or team of the person's,
but keeps their "Not for me" so erasing never restarts reminders. What Slack said of them
(reminder_profiles) is erased too; their time zone is only ever kept sealed."""

from __future__ import annotations

import datetime as dt

from bot.engine.people import Person
from tests.slack.fake_slack import User
from tests.weekly.harness import World

SATURDAY = dt.datetime(2026, 10, 31, tzinfo=dt.UTC)


def _rows(world: World, table: str, column: str, person: str) -> int:
    query = f"SELECT count(*) FROM {table} WHERE {column} = ?"
    return int(world.query(query, [person]).fetchone()[0])


def test_forget_erases_a_person_from_the_weekly_nudges(world: World) -> None:
    world.workspace.add_user(User("U1", tz="Pacific/Chatham"))
    world.workspace.add_user(User("U2", tz="Pacific/Chatham"))
    world.workspace.add_channel("C1", ["U1", "U2"])
    world.switch_on("C1", lead="U1")
    world.run_until(SATURDAY)
    world.opt_out("C1", "U2")
    one, two = world.pseudonym("U1"), world.pseudonym("U2")
    assert _rows(world, "reminder_ledger", "person", one) == 1
    assert _rows(world, "reminder_profiles", "person", one) == 1
    for row in world.query("SELECT * FROM reminder_profiles"):
        assert b"Chatham" not in bytes(row["tz_sealed"])  # the time zone only sealed

    world.store.forget(Person("T1:U1"))
    world.store.forget(Person("T1:U2"))

    for table, column in [
        ("reminder_ledger", "person"),
        ("reminder_profiles", "person"),
        ("reminder_teams", "lead"),
    ]:
        assert _rows(world, table, column, one) == 0, table
    assert _rows(world, "reminder_ledger", "person", two) == 0
    assert _rows(world, "reminder_opt_outs", "person", two) == 1  # "Not for me" stands
