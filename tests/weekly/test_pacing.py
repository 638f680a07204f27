"""Pacing shared by every sender of a workspace through the store, backing off on 429s
(honouring Retry-After) and recovering (AIMD): configured 1.25x faster than Slack allows, the
senders still achieve at least 0.95 of the allowed rate, on both stores."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.store.weekly.pacing import DECREASE, PaceRows
from tests.weekly.harness import World

FRIDAY_4PM = dt.datetime(2026, 10, 30, 16, tzinfo=dt.UTC)


def test_every_sender_takes_its_slot_from_one_pace(world: World) -> None:
    pace = PaceRows(world.store)
    slots = [pace.reserve("T1", now=100.0, ceiling=2.0) for _ in range(4)]
    assert slots == [100.0, 100.5, 101.0, 101.5]
    assert pace.reserve("T2", now=100.0, ceiling=2.0) == 100.0  # each workspace its own


def test_a_429_holds_everyone_for_retry_after_and_cuts_the_rate_once(world: World) -> None:
    pace = PaceRows(world.store)
    slots = [pace.reserve("T1", now=0.0, ceiling=10.0) for _ in range(3)]
    for slot in slots:  # three senders meet the same overshoot
        pace.limited("T1", slot=slot, now=0.3, retry_after=2.0, ceiling=10.0)
    assert pace.rate("T1") == pytest.approx(10.0 * DECREASE)
    assert pace.reserve("T1", now=0.4, ceiling=10.0) == pytest.approx(2.3)  # after Retry-After
    # A long quiet spell: recovered to the configured rate.
    pace.reserve("T1", now=10_000.0, ceiling=10.0)
    assert pace.rate("T1") == pytest.approx(10.0)


def test_two_senders_together_keep_the_workspace_pace(world: World) -> None:
    users = world.team(20)
    world.clock.set(FRIDAY_4PM)
    first, second = world.runner(interval=2.0), world.runner(interval=2.0)
    first.planner.plan(now=world.clock())
    for _ in range(10):  # as two processes would, taking turns
        first.sender.send_due(limit=1)
        second.sender.send_due(limit=1)
    times = world.workspace.accepted["chat.postMessage"]
    assert len(times) == 20 and world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 2.0 - 1e-6


@pytest.mark.parametrize(
    "too_fast",
    [pytest.param(1.0, marks=pytest.mark.bench), 1.25, pytest.param(2.0, marks=pytest.mark.bench)],
)
def test_paced_too_fast_it_still_achieves_the_allowed_rate(world: World, too_fast: float) -> None:
    allowed = 2.0
    world.workspace.limit("chat.postMessage", per_second=allowed, burst=2)
    users = world.team(150)
    world.clock.set(FRIDAY_4PM)
    world.runner(interval=1 / (allowed * too_fast)).run_once()
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    times = world.workspace.accepted["chat.postMessage"]
    achieved = (len(times) - 1) / (times[-1] - times[0])
    assert achieved >= 0.95 * allowed, (achieved, world.workspace.refused)
    if too_fast > 1:
        assert world.workspace.refused["chat.postMessage"] >= 1  # it did meet the limit
