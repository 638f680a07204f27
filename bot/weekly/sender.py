"""The sender: takes due rows from the ledger a batch at a time and posts them, within Slack's
limits.

Rows are claimed BATCH at a time (one statement, one claim token and lease for the batch). For
each row: if it was claimed before (a sender died, or Slack's answer was lost), look for it in
the person's DM first; check it is still wanted (team on, not opted out, not too late); wait for
its turn (pacing); renew the batch's lease if it is running short; post with the row id in the
message metadata. The batch's ts are recorded together at its end (one statement). A crash
between any two steps leaves claimed rows whose lease runs out, and the next claimant looks
before posting, so nothing is lost or sent twice.

Pacing: one post per `interval` (1 s by default, Slack's per-channel rate and well within the
workspace budget) per workspace, shared by every sender thread and process through the store
(bot.store.weekly.pacing), so a large team's reminders are spread out rather than burst; a 429
holds every sender of the workspace for its Retry-After, slows the pace (AIMD), and the same row
is tried again. A team's Slack client comes from `slack_for(team.reach)`: the installation its
reminders were switched on through, else its workspace.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field

from bot.slack.delivery.gateway import GONE
from bot.slack.delivery.reminder_api import (
    RateLimited,
    ReminderSlack,
    SlackRefused,
    SlackUnavailable,
)
from bot.slack.views.reminder import ReminderMessage
from bot.store.weekly.ledger import Ledger, LedgerEntry, SkipReason
from bot.store.weekly.pacing import PaceRows
from bot.store.weekly.teams import Team, Teams
from bot.weekly.privacy import Keyring, recipient_aad

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]
#: The Slack client for a team's installation, else its workspace (`Team.reach`).
SlackFor = Callable[[str], ReminderSlack]
#: Builds the message for a row (and its team, for the consent text).
Composer = Callable[[LedgerEntry, Team, Keyring], ReminderMessage]

LEASE = dt.timedelta(minutes=5)
RETRY_BACKOFF = (30.0, 60.0, 120.0, 300.0, 600.0)
#: How many 429s in a row on one post before the row is given back for later.
MAX_RATE_LIMITS = 10
#: Rows claimed at once (one statement, one claim token and lease); their posts are recorded
#: together once the batch is done. A sender that dies mid-batch leaves them claimed, and the
#: next claimant looks in each person's DM before posting (as for any row claimed twice).
BATCH = 20
#: Pacing slots are reserved about this many seconds' worth at a time, at most MAX_SLOTS.
SLOT_WINDOW = 0.5
MAX_SLOTS = BATCH


@dataclass
class _Claim:
    """A batch of rows claimed together, and how far the sender has got with it."""

    entries: list[LedgerEntry]
    #: When our lease on them runs out (renewed for all at once).
    until: dt.datetime
    #: Finished (sent, skipped, given back) or posted and waiting to be recorded.
    done: set[str] = field(default_factory=set)
    #: Taken over by another sender (our lease ran out): not ours to send.
    lost: set[str] = field(default_factory=set)
    #: Posted, not yet recorded: (row, ts).
    posted: list[tuple[LedgerEntry, str]] = field(default_factory=list)

    def unfinished(self) -> list[LedgerEntry]:
        return [e for e in self.entries if e.id not in self.done and e.id not in self.lost]


class Pacer:
    """Each workspace's posts at the pace shared by every sender through the store
    (bot.store.weekly.pacing): at most `rate` a second, less after 429s (AIMD). A rate of 0:
    no pacing (tests), only Retry-After waited out.

    Slots are reserved a few at a time (about SLOT_WINDOW seconds' worth, at most MAX_SLOTS):
    one round trip to the store for several posts. A sender running late posts at once (as with
    one slot at a time); the slots left when it runs out of work, or meets a 429, are dropped."""

    def __init__(self, *, rows: PaceRows, rate: float, clock: Clock, sleep: Sleep) -> None:
        self.rows = rows
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self._slots: dict[str, list[float]] = {}

    def wait_turn(self, workspace: str) -> float:
        """Take the workspace's next slot and wait for it; returns the slot (epoch seconds)."""
        if not self.rate:
            return self.clock().timestamp()
        now = self.clock().timestamp()
        queue = self._slots.get(workspace) or []
        if not queue:
            count = max(1, min(MAX_SLOTS, int(self.rate * SLOT_WINDOW)))
            queue = self.rows.reserve_many(workspace, now=now, ceiling=self.rate, count=count)
        slot = queue.pop(0)
        self._slots[workspace] = queue
        wait = slot - self.clock().timestamp()
        if wait > 0:
            self.sleep(wait)
        return slot

    def forget(self) -> None:
        """Drop the slots not used (the sender has nothing more to send for now): a slot kept
        through an idle spell would be posted late, in a burst with others."""
        self._slots.clear()

    def limited(self, workspace: str, *, slot: float, retry_after: float) -> None:
        """Slack said wait: nobody posts to this workspace before `retry_after` from now."""
        self._slots.pop(workspace, None)
        if not self.rate:
            self.sleep(retry_after)
            return
        self.rows.limited(
            workspace,
            slot=slot,
            now=self.clock().timestamp(),
            retry_after=retry_after,
            ceiling=self.rate,
        )


@dataclass
class SendReport:
    sent: int = 0
    found: int = 0
    skipped: int = 0
    retry_later: int = 0
    rate_limited: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, found already sent {self.found}, skipped {self.skipped}, "
            f"to retry {self.retry_later}, rate limited {self.rate_limited} times"
        )


def no_checkpoint(step: str) -> None:
    """No checkpoint: every step goes on to the next."""


@dataclass(kw_only=True, eq=False)
class Sender:
    ledger: Ledger
    teams: Teams
    slack_for: SlackFor
    pacing: InitVar[PaceRows]
    keyring: Keyring
    compose: Composer
    clock: Clock
    sleep: Sleep
    late_after: dt.timedelta
    #: Seconds between posts to one workspace (0: no pacing).
    interval: InitVar[float] = 1.0
    lease: dt.timedelta = LEASE
    #: Called at each step boundary with its name; tests raise here to simulate a crash.
    checkpoint: Callable[[str], None] = no_checkpoint
    should_stop: Callable[[], bool] = lambda: False
    pacer: Pacer = field(init=False, repr=False)

    def __post_init__(self, pacing: PaceRows, interval: float) -> None:
        rate = 1.0 / interval if interval > 0 else 0.0
        self.pacer = Pacer(rows=pacing, rate=rate, clock=self.clock, sleep=self.sleep)

    def send_due(self, *, limit: int | None = None) -> SendReport:
        """Send every row whose time has come (or `limit` of them); returns what happened."""
        report = SendReport()
        handled = 0
        logged = 0
        while limit is None or handled < limit:
            if self.should_stop():
                break
            size = BATCH if limit is None else min(BATCH, limit - handled)
            batch = self.ledger.claim_many(now=self.clock(), lease=self.lease, limit=size)
            if not batch:
                break
            handled += len(batch)
            self._deliver_all(batch, report)
            if handled - logged >= 100:
                logged = handled
                log.info("weekly reminders: %s", report)
        self.pacer.forget()
        if handled:
            log.info("weekly reminders: %s", report)
        return report

    # ------------------------------------------------------------------ a batch

    def _deliver_all(self, batch: list[LedgerEntry], report: SendReport) -> None:
        channels = sorted({entry.channel for entry in batch})
        teams = self.teams.get_many(channels)
        opted_out = self.teams.opt_outs_by_channel(list(teams))
        claim = _Claim(entries=batch, until=min(e.lease_until or self.clock() for e in batch))
        for entry in batch:
            if entry.id in claim.lost:
                continue
            if self.should_stop():  # nothing was posted for the rest: hand them back
                for rest in claim.unfinished():
                    self.ledger.give_back(rest, now=self.clock())
                break
            self.checkpoint("claimed")
            self._deliver(
                entry, teams.get(entry.channel), opted_out.get(entry.channel, set()), claim, report
            )
            claim.done.add(entry.id)
        self._record(claim)

    def _record(self, claim: _Claim) -> None:
        """Record the batch's posts so far (one statement)."""
        if not claim.posted:
            return
        posted, claim.posted = claim.posted, []
        self.ledger.mark_all_sent(posted, now=self.clock())
        for _ in posted:
            self.checkpoint("recorded")

    def _hold(self, entry: LedgerEntry, claim: _Claim, now: dt.datetime) -> bool:
        """Before posting after a long wait (pacing, 429s): renew the batch's lease. False if
        this row was taken over meanwhile."""
        if claim.until - now >= self.lease / 2:
            return True
        self._record(claim)
        unfinished = claim.unfinished()
        still = self.ledger.renew_all(unfinished, now=now, lease=self.lease)
        claim.lost |= {e.id for e in unfinished if e.id not in still}
        claim.until = now + self.lease
        if entry.id in claim.lost:
            log.info("weekly reminders: a row was taken over by another sender")
            return False
        return True

    # ------------------------------------------------------------------ one row

    def _deliver(
        self,
        entry: LedgerEntry,
        team: Team | None,
        opted_out: set[str],
        claim: _Claim,
        report: SendReport,
    ) -> None:
        try:
            user = self.keyring.unseal(entry.recipient_sealed, aad=recipient_aad(entry.person))
        except Exception as error:  # a damaged row or another secret: never retried forever
            log.error(
                "weekly reminders: a recipient could not be unsealed (%s)", type(error).__name__
            )
            self._skip(entry, "cannot_message", report)
            return
        if team is None:
            self._skip(entry, "team_off", report)
            return
        slack = self.slack_for(team.reach)
        if entry.in_doubt:
            found = self._look_first(entry, user, report, slack)
            if found is None:
                self._retry_later(entry, report)
                return
            if found:
                return
            self.checkpoint("checked")
        reason = self._unwanted(entry, team, opted_out)
        if reason is not None:
            self._skip(entry, reason, report)
            return
        message = self.compose(entry, team, self.keyring)
        rate_limits = 0
        while True:
            slot = self.pacer.wait_turn(team.workspace)
            if self.should_stop():  # woken early to stop: nothing was posted for this row
                self.ledger.give_back(entry, now=self.clock())
                return
            now = self.clock()
            if now - entry.due_at > self.late_after:
                self._skip(entry, "late", report)
                return
            if not self._hold(entry, claim, now):
                return
            self.checkpoint("posting")
            try:
                posted = slack.post(
                    channel=user, text=message.text, blocks=message.blocks, entry_id=entry.id
                )
            except RateLimited as limited:
                report.rate_limited += 1
                rate_limits += 1
                if rate_limits >= MAX_RATE_LIMITS:
                    self._retry_later(entry, report)
                    return
                self.pacer.limited(team.workspace, slot=slot, retry_after=limited.retry_after)
                continue
            except SlackRefused as refused:
                log.warning("weekly reminders: Slack refused a reminder (%s)", refused.error)
                self._skip(
                    entry,
                    "deactivated" if refused.error in GONE else "cannot_message",
                    report,
                )
                return
            except SlackUnavailable:
                # Slack may have posted it: look before anything else is tried.
                log.warning("weekly reminders: no answer from Slack to a post; checking the DM")
                try:
                    if self._already_sent(entry, user, report, slack):
                        return
                except (RateLimited, SlackUnavailable):
                    pass
                self._retry_later(entry, report)
                return
            break
        self.checkpoint("posted")
        claim.posted.append((entry, posted.ts))
        report.sent += 1

    def _unwanted(self, entry: LedgerEntry, team: Team, opted_out: set[str]) -> SkipReason | None:
        if not team.active:
            return "team_off"
        if entry.person in opted_out:
            return "opted_out"
        if self.clock() - entry.due_at > self.late_after:
            return "late"
        return None

    def _look_first(
        self, entry: LedgerEntry, user: str, report: SendReport, slack: ReminderSlack
    ) -> bool | None:
        """`_already_sent` for a row claimed before, waiting out Slack's limits on the lookup
        (Retry-After) as posts do; None if Slack is unavailable or keeps saying wait."""
        for _ in range(MAX_RATE_LIMITS):
            try:
                return self._already_sent(entry, user, report, slack)
            except RateLimited as limited:
                report.rate_limited += 1
                self.sleep(limited.retry_after)
            except SlackUnavailable:
                return None
        return None

    def _already_sent(
        self, entry: LedgerEntry, user: str, report: SendReport, slack: ReminderSlack
    ) -> bool:
        """Whether the reminder for this row is in the DM already (then it is recorded as sent)."""
        dm_channel = slack.open_dm(user)
        since = (entry.created_at or entry.due_at) - dt.timedelta(minutes=1)
        ts = slack.find_reminder(dm_channel=dm_channel, entry_id=entry.id, since=since)
        if ts is None:
            return False
        self.ledger.mark_sent(entry, ts=ts, now=self.clock())
        report.found += 1
        return True

    def _skip(self, entry: LedgerEntry, reason: SkipReason, report: SendReport) -> None:
        self.ledger.mark_skipped(entry, reason=reason, now=self.clock())
        report.skipped += 1

    def _retry_later(self, entry: LedgerEntry, report: SendReport) -> None:
        wait = RETRY_BACKOFF[min(entry.attempts, len(RETRY_BACKOFF)) - 1]
        now = self.clock()
        self.ledger.release(entry, retry_at=now + dt.timedelta(seconds=wait), now=now)
        report.retry_later += 1
