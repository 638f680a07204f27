"""Exactly once: crashes between any two steps, lost answers, 429s, and two senders at once."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest

from bot.weekly.sender import LEASE
from tests.weekly.harness import World

UTC = dt.UTC
FRIDAY_4PM = dt.datetime(2026, 10, 30, 16, tzinfo=UTC)
SATURDAY = dt.datetime(2026, 10, 31, tzinfo=UTC)
STEPS = ("claimed", "checked", "posting", "posted", "recorded")


class Crash(Exception):
    """The process dies here."""


def _states(world: World) -> dict[str, int]:
    rows = world.query("SELECT state, COUNT(*) AS n FROM reminder_ledger GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


def _crash_at(step: str, *, times: int = 1) -> tuple[list[str], object]:
    seen: list[str] = []

    def checkpoint(name: str) -> None:
        seen.append(name)
        if name == step and seen.count(step) <= times:
            raise Crash(step)

    return seen, checkpoint


@pytest.mark.parametrize("step", ["claimed", "posting", "posted", "recorded"])
@pytest.mark.parametrize("nth", [1, 3])
def test_a_crash_at_any_step_neither_loses_nor_duplicates(
    world: World, step: str, nth: int
) -> None:
    users = world.team(5)
    world.clock.set(FRIDAY_4PM)
    calls = {"n": 0}

    def checkpoint(name: str) -> None:
        if name == step:
            calls["n"] += 1
            if calls["n"] == nth:
                raise Crash(step)

    with pytest.raises(Crash):
        world.runner(checkpoint=checkpoint).run_once()
    # The process is restarted; the dead one's claim runs out and the new one carries on.
    world.clock.sleep(LEASE.total_seconds() + 1)
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert _states(world) == {"sent": 5}


def test_crashing_again_and_again_at_every_step_still_sends_each_once(world: World) -> None:
    users = world.team(10)
    world.clock.set(FRIDAY_4PM)
    dice = random.Random(5)
    crashed_at: list[str] = []

    def checkpoint(name: str) -> None:
        if dice.random() < 0.35:  # the process dies here, whichever step this is
            crashed_at.append(name)
            raise Crash(name)

    while world.clock() < SATURDAY:
        try:
            report = world.runner(checkpoint=checkpoint).run_once()
        except Crash:
            world.clock.sleep(LEASE.total_seconds() + 1)  # restarted after the lease ran out
            continue
        if report.next_wake is None:
            break
        world.clock.set(max(report.next_wake, world.clock() + dt.timedelta(seconds=1)))
    assert set(crashed_at) == set(STEPS)
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert _states(world) == {"sent": 10}
    assert world.clock() - FRIDAY_4PM < dt.timedelta(hours=6)  # none of it too late


def test_a_lost_answer_leads_to_a_look_in_the_dm_not_a_second_post(world: World) -> None:
    users = world.team(3)
    world.clock.set(FRIDAY_4PM)
    world.workspace.fail("chat.postMessage", drop=True, processed=True)  # posted, answer lost
    report = world.runner().run_once()
    assert report.send.found == 1
    assert report.send.sent == 2
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert world.workspace.calls("conversations.history")
    assert _states(world) == {"sent": 3}


def test_a_lost_answer_while_history_is_down_is_checked_again_later(world: World) -> None:
    users = world.team(2)
    world.clock.set(FRIDAY_4PM)
    world.workspace.fail("chat.postMessage", drop=True, processed=True)
    world.workspace.fail("conversations.history", status=500)
    report = world.runner().run_once()
    assert report.send.retry_later == 1
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert _states(world) == {"sent": 2}


def test_a_server_error_is_checked_then_retried_once(world: World) -> None:
    users = world.team(2)
    world.clock.set(FRIDAY_4PM)
    world.workspace.fail("chat.postMessage", status=500)  # not posted
    world.run_until(SATURDAY)
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert len(world.workspace.calls("chat.postMessage")) == 3


def test_429s_are_waited_out_for_retry_after_and_the_nudge_arrives_once(world: World) -> None:
    users = world.team(3)
    world.clock.set(FRIDAY_4PM)
    world.workspace.fail("chat.postMessage", status=429, retry_after=7, times=2)
    report = world.runner().run_once()
    assert report.send.rate_limited == 2
    assert world.clock.slept.count(7) == 2
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)


def test_a_large_team_is_spread_out_not_burst(world: World) -> None:
    world.team(120)
    world.clock.set(FRIDAY_4PM)
    report = world.runner(interval=1.0).run_once()
    assert report.send.sent == 120
    # One post a second: two minutes of (fake) time for 120 people, all well before "late".
    assert world.clock() - FRIDAY_4PM >= dt.timedelta(seconds=119)
    assert world.clock() - FRIDAY_4PM < dt.timedelta(minutes=5)


def test_two_senders_on_one_database_send_each_nudge_once(world: World) -> None:
    users = world.team(60)
    world.clock.set(FRIDAY_4PM)
    # Both plan (the ledger takes each person once) and both send, at the same time.
    barrier = threading.Barrier(2)
    reports: list[int] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            runner = world.runner(interval=0.01)  # its own connection, in its own thread
            barrier.wait()
            reports.append(runner.run_once().send.sent)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(reports) == 60
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert _states(world) == {"sent": 60}
