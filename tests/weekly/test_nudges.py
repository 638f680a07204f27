"""Weekly nudges end to end: planner, ledger and sender against the fake Slack on loopback."""

from __future__ import annotations

import datetime as dt

from bot.store.weekly.ledger import Ledger
from bot.store.weekly.tables import channel_key
from bot.weekly.due import WeeklyTime
from tests.slack.fake_slack import User
from tests.weekly.harness import World

UTC = dt.UTC
SATURDAY = dt.datetime(2026, 10, 31, tzinfo=UTC)


def _team(world: World, channel: str, users: list[User]) -> None:
    for user in users:
        world.workspace.add_user(user)
    world.workspace.add_channel(channel, [user.id for user in users])


def test_each_person_is_nudged_once_at_four_pm_their_time(world: World) -> None:
    london, new_york, tokyo = (
        User("U1", tz="Europe/London"),
        User("U2", tz="America/New_York"),
        User("U3", tz="Asia/Tokyo"),
    )
    _team(world, "C1", [london, new_york, tokyo])
    world.switch_on("C1")
    world.run_until(SATURDAY + dt.timedelta(days=1))
    assert world.workspace.reminder_counts() == {"U1": 1, "U2": 1, "U3": 1}
    ledger = Ledger(world.store)
    sent = {d.person: d for d in ledger.waiting(until=SATURDAY)}  # none left waiting
    assert sent == {}
    rows = world.query("SELECT person, state, due_at, updated_at FROM reminder_ledger").fetchall()
    assert {row["state"] for row in rows} == {"sent"}
    due = {row["person"]: dt.datetime.fromisoformat(row["due_at"]) for row in rows}
    assert due[world.pseudonym("U1")] == dt.datetime(2026, 10, 30, 16, tzinfo=UTC)  # GMT now
    assert due[world.pseudonym("U2")] == dt.datetime(2026, 10, 30, 20, tzinfo=UTC)  # still EDT
    assert due[world.pseudonym("U3")] == dt.datetime(2026, 10, 30, 7, tzinfo=UTC)
    for row in rows:  # sent on time, not hours late
        late = dt.datetime.fromisoformat(row["updated_at"]) - dt.datetime.fromisoformat(
            row["due_at"]
        )
        assert late < dt.timedelta(seconds=60)


def test_the_first_nudge_asks_consent_and_names_who_switched_it_on(world: World) -> None:
    _team(world, "C1", [User("U1")])
    world.switch_on("C1", lead="ULEAD")
    world.run_until(SATURDAY)
    (first,) = world.workspace.reminders_to("U1")
    assert "<@ULEAD>" in first["blocks"][0]["text"]["text"]
    assert "private to you" in first["blocks"][0]["text"]["text"]
    actions = [e["action_id"] for e in first["blocks"][1]["elements"]]
    assert actions == ["weekly_start", "weekly_choose", "weekly_later", "weekly_not_for_me"]
    # The week after: a plain nudge, no consent text.
    world.run_until(SATURDAY + dt.timedelta(days=7))
    second = world.workspace.reminders_to("U1")[1]
    assert "<@ULEAD>" not in second["blocks"][0]["text"]["text"]
    assert second["blocks"][1]["elements"][0]["text"]["text"] == "Start the weekly check-in"


def test_opted_out_people_get_nothing(world: World) -> None:
    _team(world, "C1", [User("U1"), User("U2")])
    world.switch_on("C1")
    world.opt_out("C1", "U2")
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == {"U1": 1, "U2": 0}


def test_someone_in_several_teams_gets_one_nudge_a_week(world: World) -> None:
    _team(world, "C1", [User("U1"), User("U2")])
    world.workspace.add_channel("C2", ["U1"])
    world.switch_on("C1")
    world.switch_on("C2", when=WeeklyTime(day=2, time=dt.time(9, 0)))
    world.run_until(SATURDAY + dt.timedelta(days=8))
    assert world.workspace.reminder_counts() == {"U1": 2, "U2": 2}  # two weeks, one each
    # U1's comes on Wednesday morning (the earlier of their teams).
    row = world.query(
        "SELECT channel, due_at FROM reminder_ledger WHERE person = ? ORDER BY due_at LIMIT 1",
        (world.pseudonym("U1"),),
    ).fetchone()
    assert row["channel"] == channel_key(world.keyring, "C2")  # the channel's keyed digest
    assert dt.datetime.fromisoformat(row["due_at"]) == dt.datetime(2026, 10, 28, 9, tzinfo=UTC)


def test_people_who_leave_the_channel_stop_getting_nudges(world: World) -> None:
    _team(world, "C1", [User("U1"), User("U2")])
    world.switch_on("C1")
    world.run_until(SATURDAY)
    world.workspace.channels["C1"].members.remove("U2")
    world.run_until(SATURDAY + dt.timedelta(days=7))
    assert world.workspace.reminder_counts() == {"U1": 2, "U2": 1}


def test_deactivated_accounts_and_bots_are_skipped(world: World) -> None:
    _team(world, "C1", [User("U1"), User("U2", deleted=True), User("UB", is_bot=True)])
    world.switch_on("C1")
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == {"U1": 1, "U2": 0, "UB": 0}


def test_an_account_deactivated_after_planning_is_skipped_not_retried(world: World) -> None:
    _team(world, "C1", [User("U1")])
    world.switch_on("C1")
    runner = world.runner()
    world.clock.set(dt.datetime(2026, 10, 30, 16, tzinfo=UTC))
    runner.planner.plan(now=world.clock())
    world.workspace.users["U1"].deleted = True
    report = runner.sender.send_due()
    assert (report.sent, report.skipped) == (0, 1)
    row = world.query("SELECT state, reason FROM reminder_ledger").fetchone()
    assert (row["state"], row["reason"]) == ("skipped", "deactivated")


def test_a_nudge_more_than_six_hours_late_is_skipped(world: World) -> None:
    _team(world, "C1", [User("U1", tz="Europe/London"), User("U2", tz="America/New_York")])
    world.switch_on("C1")
    # The bot was down all Friday afternoon: back at 22:30 UTC, 6.5 h after London's 16:00 but
    # 2.5 h after New York's.
    world.clock.set(dt.datetime(2026, 10, 30, 22, 30, tzinfo=UTC))
    world.runner().run_once()
    assert world.workspace.reminder_counts() == {"U1": 0, "U2": 1}
    rows = world.query("SELECT person, state, reason FROM reminder_ledger").fetchall()
    states = {row["person"]: (row["state"], row["reason"]) for row in rows}
    assert states[world.pseudonym("U1")] == ("skipped", "late")
    assert states[world.pseudonym("U2")] == ("sent", None)


def test_a_team_switched_on_after_this_weeks_time_starts_next_week(world: World) -> None:
    _team(world, "C1", [User("U1")])
    world.clock.set(dt.datetime(2026, 10, 30, 17, tzinfo=UTC))  # Friday 17:00, an hour after
    world.switch_on("C1")
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == {"U1": 0}
    world.run_until(SATURDAY + dt.timedelta(days=7))
    assert world.workspace.reminder_counts() == {"U1": 1}


def test_a_team_switched_off_gets_no_more_nudges(world: World) -> None:
    from bot.store.weekly.teams import Teams

    _team(world, "C1", [User("U1")])
    world.switch_on("C1")
    world.run_until(SATURDAY)
    Teams(world.store, keyring=world.keyring).switch_off(channel="C1", now=world.clock())
    world.run_until(SATURDAY + dt.timedelta(days=7))
    assert world.workspace.reminder_counts() == {"U1": 1}


def test_a_channel_the_bot_cannot_read_is_reported_not_fatal(world: World) -> None:
    _team(world, "C1", [User("U1")])
    world.workspace.add_channel("C2", ["U2"], bot_in=False)
    world.workspace.add_user(User("U2"))
    world.switch_on("C1")
    world.switch_on("C2")
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == {"U1": 1, "U2": 0}
    from bot.store.weekly.teams import Teams

    team = Teams(world.store, keyring=world.keyring).get("C2")
    assert team is not None and team.problem == "not_in_channel"


def test_no_slack_id_is_kept_in_clear(world: World) -> None:
    _team(world, "C1", [User("UCANARY1"), User("UCANARY2", tz="Asia/Tokyo")])
    world.switch_on("C1", lead="UCANARYLEAD", workspace="TCANARYTEAM")
    world.run_until(SATURDAY)
    assert sum(world.workspace.reminder_counts().values()) == 2
    for path in world.db_path.parent.glob("reflect.db*"):
        data = path.read_bytes()
        assert b"UCANARY" not in data, path.name
        assert b"TCANARY" not in data, path.name


def test_a_row_that_cannot_be_unsealed_is_skipped_not_retried_forever(world: World) -> None:
    _team(world, "C1", [User("U1"), User("U2")])
    world.switch_on("C1")
    runner = world.runner()
    world.clock.set(dt.datetime(2026, 10, 30, 16, tzinfo=UTC))
    runner.planner.plan(now=world.clock())
    world.query(
        "UPDATE reminder_ledger SET recipient_sealed = ? WHERE person = ?",
        (b"\x01" + b"0" * 40, world.pseudonym("U1")),
    )
    report = runner.sender.send_due()
    assert (report.sent, report.skipped) == (1, 1)
    assert world.workspace.reminder_counts() == {"U1": 0, "U2": 1}


def test_a_sunday_night_nudge_delayed_past_midnight_is_still_sent_for_its_week(
    world: World,
) -> None:
    _team(world, "C1", [User("U1", tz="Europe/London")])
    world.switch_on("C1", when=WeeklyTime(day=6, time=dt.time(23, 0)))
    world.clock.set(dt.datetime(2026, 11, 1, 22, tzinfo=UTC))  # Sunday 22:00: not yet
    world.runner().run_once()
    assert world.workspace.reminder_counts() == {"U1": 0}
    world.clock.set(dt.datetime(2026, 11, 2, 1, tzinfo=UTC))  # back after downtime: Monday 01:00
    world.runner().run_once()
    assert world.workspace.reminder_counts() == {"U1": 1}
    row = world.query("SELECT week, state FROM reminder_ledger").fetchone()
    assert (row["week"], row["state"]) == ("2026-W44", "sent")  # the week it was due in


def test_a_sunday_night_nudge_more_than_six_hours_late_is_skipped(world: World) -> None:
    _team(world, "C1", [User("U1", tz="Europe/London")])
    world.switch_on("C1", when=WeeklyTime(day=6, time=dt.time(23, 0)))
    world.clock.set(dt.datetime(2026, 11, 2, 5, 30, tzinfo=UTC))  # Monday 05:30: 6.5 h late
    world.runner().run_once()
    assert world.workspace.reminder_counts() == {"U1": 0}
    rows = world.query("SELECT week, state, reason FROM reminder_ledger")
    assert [tuple(row) for row in rows] == [("2026-W44", "skipped", "late")]
