"""Erasure reaches the weekly reminders: `forget` leaves no ledger row or team of the person's,
but keeps their "Not for me" so erasing never restarts reminders. No time zone is ever kept."""

from __future__ import annotations

import datetime as dt

from bot.engine.people import Person
from bot.store.sqlite import SqliteStore
from tests.slack.fake_slack import User
from tests.weekly.harness import TEST_SECRET, World, connect

SATURDAY = dt.datetime(2026, 10, 31, tzinfo=dt.UTC)


def _rows(world: World, table: str, column: str, person: str) -> int:
    query = f"SELECT count(*) FROM {table} WHERE {column} = ?"
    return int(connect(world.db_path).execute(query, [person]).fetchone()[0])


def test_forget_erases_a_person_from_the_weekly_nudges(world: World) -> None:
    world.workspace.add_user(User("U1"))
    world.workspace.add_user(User("U2"))
    world.workspace.add_channel("C1", ["U1", "U2"])
    world.switch_on("C1", lead="U1")
    world.run_until(SATURDAY)
    world.opt_out("C1", "U2")
    one, two = world.pseudonym("U1"), world.pseudonym("U2")
    assert _rows(world, "reminder_ledger", "person", one) == 1
    tables = {row[0] for row in connect(world.db_path).execute("SELECT name FROM sqlite_master")}
    assert not any("people" in name or "profile" in name for name in tables)

    with SqliteStore.open(world.db_path, secret=TEST_SECRET) as store:
        store.forget(Person("T1:U1"))
        store.forget(Person("T1:U2"))

    for table, column in [
        ("reminder_ledger", "person"),
        ("reminder_teams", "lead"),
    ]:
        assert _rows(world, table, column, one) == 0, table
    assert _rows(world, "reminder_ledger", "person", two) == 0
    assert _rows(world, "reminder_opt_outs", "person", two) == 1  # "Not for me" stands
