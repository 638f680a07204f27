"""Putting the weekly reminders together: planner, sender and runner over the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from bot.slack.delivery.reminder_api import ReminderSlack
from bot.slack.views.reminder import FlowChoice, ReminderMessage, compose
from bot.store.weekly.ledger import Ledger, LedgerEntry
from bot.store.weekly.pacing import PaceRows
from bot.store.weekly.planning import Leases, MemberLists
from bot.store.weekly.tables import Transactions
from bot.store.weekly.teams import Team, Teams
from bot.weekly.planner import Planner
from bot.weekly.privacy import Keyring, lead_aad
from bot.weekly.profiles import Profiles
from bot.weekly.runner import ReminderRunner
from bot.weekly.sender import LEASE, Clock, Composer, Sender, SlackFor, Sleep, no_checkpoint


def composer(flows: Sequence[FlowChoice]) -> Composer:
    def build(entry: LedgerEntry, team: Team, keyring: Keyring) -> ReminderMessage:
        lead = None
        if entry.consent:
            lead = keyring.unseal(
                team.lead_sealed, aad=lead_aad(channel=team.channel, lead=team.lead)
            )
        return compose(entry, flows=flows, lead_user=lead, when=team.when.describe())

    return build


def build_runner(
    *,
    db: Transactions,
    slack: ReminderSlack | None = None,
    slack_for: SlackFor | None = None,
    keyring: Keyring,
    flows: Sequence[FlowChoice],
    clock: Clock,
    sleep: Sleep,
    late_after: dt.timedelta,
    interval: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    checkpoint: Callable[[str], None] = no_checkpoint,
    profiles: Profiles | None = None,
    keep_for: dt.timedelta | None = None,
    lease: dt.timedelta | None = None,
) -> ReminderRunner:
    """A runner over the store's weekly tables. Slack: `slack_for(workspace)` gives the client
    of a workspace (or `slack`, one client for all). `profiles` (kept in the store, and in
    memory) is best shared between the runners of one process."""
    if slack_for is None:
        if slack is None:
            raise TypeError("build_runner needs slack or slack_for")
        one = slack
        slack_for = lambda workspace: one  # noqa: E731
    teams = Teams(db, keyring=keyring)
    ledger = Ledger(db)
    planner = Planner(
        teams=teams,
        ledger=ledger,
        profiles=profiles or Profiles(db),
        slack_for=slack_for,
        keyring=keyring,
        late_after=late_after,
        sleep=sleep,
        member_lists=MemberLists(db),
        leases=Leases(db),
        clock=clock,
    )
    sender = Sender(
        ledger=ledger,
        teams=teams,
        slack_for=slack_for,
        pacing=PaceRows(db),
        keyring=keyring,
        compose=composer(flows),
        clock=clock,
        sleep=sleep,
        late_after=late_after,
        interval=interval,
        checkpoint=checkpoint,
        should_stop=should_stop,
        lease=lease or LEASE,
    )
    return ReminderRunner(
        planner=planner, sender=sender, ledger=ledger, clock=clock, keep_for=keep_for
    )
