"""Sending in batches and planning once for many processes, at a bounded cost per reminder.

Rows are claimed a batch at a time and their posts recorded together; a sender that dies in
the middle of a batch leaves posted-but-unrecorded rows that the next claimant finds in the
DM rather than posting again. One planner plans at a time (a lease in the store), from member
lists shared through the store. The costs are counted, not timed: statements and transactions
per post, and Slack calls per team.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.store.weekly.ledger import Ledger
from bot.store.weekly.planning import Leases
from bot.weekly.planner import MEMBERS_FRESH, PLANNER
from bot.weekly.sender import BATCH, LEASE
from bot.weekly.wiring import build_runner
from tests.weekly.counting import Counted
from tests.weekly.harness import FLOWS, World

UTC = dt.UTC
FRIDAY_4PM = dt.datetime(2026, 10, 30, 16, tzinfo=UTC)
SATURDAY = dt.datetime(2026, 10, 31, tzinfo=UTC)


class Crash(Exception):
    """The process dies here."""


def _states(world: World) -> dict[str, int]:
    rows = world.query("SELECT state, COUNT(*) AS n FROM reminder_ledger GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


def test_a_sender_killed_mid_batch_leaves_nothing_lost_or_sent_twice(world: World) -> None:
    users = world.team(BATCH)
    world.clock.set(FRIDAY_4PM)
    posted = {"n": 0}

    def checkpoint(step: str) -> None:
        if step == "posted":
            posted["n"] += 1
            if posted["n"] == 7:  # seven posted, none recorded: a batch is recorded at its end
                raise Crash(step)

    with pytest.raises(Crash):
        world.runner(checkpoint=checkpoint).run_once()
    assert _states(world) == {"claimed": BATCH}
    world.clock.sleep(LEASE.total_seconds() + 1)  # restarted once the dead one's lease ran out
    # Every row of the dead batch is in doubt, so each is looked for in the DM first (within
    # Slack's limits on those calls: some wait for a later round); the seven are found there.
    reports = world.run_until(SATURDAY)
    assert sum(report.send.found for report in reports) == 7
    assert sum(report.send.sent for report in reports) == BATCH - 7
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    assert _states(world) == {"sent": BATCH}


def test_sending_costs_a_fraction_of_a_statement_per_post(world: World) -> None:
    world.team(60)
    world.workspace.limit("chat.postMessage", per_second=100, burst=20)
    world.clock.set(FRIDAY_4PM)
    world.runner().planner.plan(now=world.clock())
    counted = Counted(world.store)
    runner = build_runner(
        db=counted,
        slack=world.slack(),
        keyring=world.keyring,
        flows=FLOWS,
        clock=world.clock,
        sleep=world.clock.sleep,
        late_after=world.late_after,
        interval=0.01,
    )
    report = runner.sender.send_due()
    assert report.sent == 60
    # Per batch of 20: claim, teams, opt-outs, pacing (a few slots at a time), record; one
    # post at a time took six (claim, team, opt-out, pace read and write, record).
    assert counted.counts["statements"] < 60, counted.counts
    assert len(world.workspace.calls("chat.postMessage")) == 60  # one HTTP call per post


def test_only_the_records_of_rows_still_held_are_written(world: World) -> None:
    world.team(3)
    world.clock.set(FRIDAY_4PM)
    world.runner().planner.plan(now=world.clock())
    ledger = Ledger(world.store)
    mine = ledger.claim_many(now=world.clock(), lease=LEASE, limit=3)
    later = world.clock() + LEASE + dt.timedelta(seconds=1)
    theirs = ledger.claim_many(now=later, lease=LEASE, limit=1)  # our lease ran out on one
    assert len(mine) == 3 and [e.id for e in theirs] == [mine[0].id]
    assert ledger.mark_all_sent([(entry, "1.0") for entry in mine], now=later) == 2
    assert ledger.renew_all(mine, now=later, lease=LEASE) == set()  # nothing left to renew
    assert ledger.get(mine[0].id).state == "claimed"  # type: ignore[union-attr]


def test_one_planner_at_a_time_and_the_others_send(world: World) -> None:
    world.team(5)
    world.clock.set(FRIDAY_4PM)
    leases = Leases(world.store)
    assert leases.take(PLANNER, holder="another process", now=world.clock(), lease=LEASE)
    report = world.runner().run_once()
    assert report.plan.planned_elsewhere and report.send.sent == 0
    assert not world.workspace.calls("conversations.members")
    world.clock.sleep(LEASE.total_seconds() + 1)  # that planner died: its lease runs out
    report = world.runner().run_once()
    assert not report.plan.planned_elsewhere and report.send.sent == 5


def test_member_lists_are_shared_and_read_again_when_stale(world: World) -> None:
    for number in range(3):
        world.team(4, channel=f"C{number}")
    read_at = FRIDAY_4PM - 2 * MEMBERS_FRESH
    world.clock.set(read_at)
    world.runner().planner.plan(now=world.clock())
    assert len(world.workspace.calls("conversations.members")) == 3
    # Another process (its own runner), before the lists are stale: no call to Slack.
    world.clock.set(read_at + MEMBERS_FRESH - dt.timedelta(minutes=1))
    world.runner().planner.plan(now=world.clock())
    assert len(world.workspace.calls("conversations.members")) == 3
    world.clock.set(FRIDAY_4PM)  # more than an hour after they were read: read again
    world.runner().run_once()
    assert len(world.workspace.calls("conversations.members")) == 6
    assert _states(world) == {"sent": 4}
