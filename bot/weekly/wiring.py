"""Putting the weekly nudges together: planner, sender and runner over one connection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.slack.delivery.reminder_api import NudgeSlack
from bot.slack.views.reminder import FlowChoice, NudgeMessage, compose
from bot.store.weekly.ledger import Delivery, Ledger
from bot.store.weekly.profiles import Profiles
from bot.store.weekly.tables import connect
from bot.store.weekly.teams import Team, Teams
from bot.weekly.planner import Planner
from bot.weekly.privacy import Keyring, lead_aad
from bot.weekly.runner import NudgeRunner
from bot.weekly.sender import Clock, Composer, Sender, Sleep


def composer(flows: Sequence[FlowChoice]) -> Composer:
    def build(delivery: Delivery, team: Team, keyring: Keyring) -> NudgeMessage:
        lead = None
        if delivery.consent:
            lead = keyring.unseal(
                team.lead_sealed, aad=lead_aad(channel=team.channel, lead=team.lead)
            )
        return compose(delivery, flows=flows, lead_user=lead, when=team.when.describe())

    return build


def build_runner(
    *,
    db_path: Path | str,
    slack: NudgeSlack,
    keyring: Keyring,
    flows: Sequence[FlowChoice],
    clock: Clock,
    sleep: Sleep,
    late_after: dt.timedelta,
    interval: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    checkpoint: Callable[[str], None] | None = None,
    durable: bool = True,
    keep_for: dt.timedelta | None = None,
) -> NudgeRunner:
    """A runner with its own database connection (make it in the thread that will use it)."""
    connection = connect(db_path, durable=durable)
    teams = Teams(connection, keyring=keyring)
    ledger = Ledger(connection)
    planner = Planner(
        teams=teams,
        ledger=ledger,
        profiles=Profiles(connection, slack=slack),
        slack=slack,
        keyring=keyring,
        late_after=late_after,
        sleep=sleep,
    )
    sender = Sender(
        ledger=ledger,
        teams=teams,
        slack=slack,
        keyring=keyring,
        compose=composer(flows),
        clock=clock,
        sleep=sleep,
        late_after=late_after,
        interval=interval,
        checkpoint=checkpoint,
        should_stop=should_stop,
    )
    return NudgeRunner(
        planner=planner, sender=sender, ledger=ledger, clock=clock, keep_for=keep_for
    )
