"""The planner: who is due a weekly reminder now, written into the ledger before anything is sent.

For each team that is on: its members (conversations.members), less those who opted out, less
deactivated accounts and bots (bot.weekly.profiles: kept in the store for a day, looked up in
bulk with users.list when many are unknown). Each person gets one reminder a week however
many teams they are in: the earliest due among their teams. A reminder whose time has come goes in
as `due`; one more than the lateness limit past its time goes in as `skipped` (late), so the
week is accounted for and never sent at night after downtime.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from bot.slack.delivery.reminder_api import (
    RateLimited,
    ReminderSlack,
    SlackRefused,
    SlackUnavailable,
)
from bot.store.weekly.ledger import Ledger, Planned
from bot.store.weekly.planning import Leases, MemberLists
from bot.store.weekly.teams import Team, Teams
from bot.weekly.due import due_instant, timing, week_key, zone
from bot.weekly.privacy import Keyring, recipient_aad, slack_identity
from bot.weekly.profiles import Profiles

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
#: The Slack client for a team's installation, else its workspace (`Team.reach`).
SlackFor = Callable[[str], ReminderSlack]

#: ok:false answers to conversations.members that mean the bot cannot see the team.
UNREADABLE = {"not_in_channel", "channel_not_found", "is_archived", "missing_scope"}
#: A team's member list is read from Slack again when older than this (kept in the store, so
#: every process plans from one reading: 1,000 teams are 1,000 calls an hour, not a round).
MEMBERS_FRESH = dt.timedelta(hours=1)
#: One planner at a time across processes: the lease it holds while planning (renewed as it
#: reads member lists), so another takes over if it dies.
PLAN_LEASE = dt.timedelta(minutes=5)
PLANNER = "planner"


@dataclass
class PlanReport:
    added: int = 0
    late: int = 0
    next_due: dt.datetime | None = None
    unreadable: list[str] = field(default_factory=list)
    #: What was due (or late) and not yet in the ledger: written unless this was a dry run.
    wanted: list[Planned] = field(default_factory=list)
    #: Another process held the planner's lease: nothing was planned here this round.
    planned_elsewhere: bool = False

    def __str__(self) -> str:
        return f"planned {self.added}, skipped as late {self.late}"


@dataclass
class _Candidate:
    user: str
    teams: list[Team]

    @property
    def workspace(self) -> str:
        return self.teams[0].workspace

    @property
    def reach(self) -> str:
        """What the Slack client to ask about this person is found by (`Team.reach`)."""
        return self.teams[0].reach


@dataclass(kw_only=True, eq=False)
class Planner:
    teams: Teams
    ledger: Ledger
    profiles: Profiles
    slack_for: SlackFor
    keyring: Keyring
    late_after: dt.timedelta
    sleep: Sleep
    #: The shared member lists (None: read every team's members from Slack every round).
    member_lists: MemberLists | None = None
    #: The shared planner lease (None: this planner never waits for another).
    leases: Leases | None = None
    #: When planning, for the lease and member lists (None: `now` as given to `plan`).
    clock: Callable[[], dt.datetime] | None = None
    holder: str = field(default_factory=lambda: secrets.token_hex(8))
    _pseudonyms: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    #: Who is not due yet, and when they will be, for what (zone, teams' settings).
    _waiting: dict[str, tuple[object, dt.datetime]] = field(
        default_factory=dict, init=False, repr=False
    )

    def _pseudonym(self, workspace: str, user: str) -> str:
        key = (workspace, user)
        if key not in self._pseudonyms:
            self._pseudonyms[key] = self.keyring.pseudonym(
                slack_identity(workspace=workspace, user=user)
            )
        return self._pseudonyms[key]

    def plan(self, *, now: dt.datetime, dry_run: bool = False) -> PlanReport:
        """Put everyone whose reminder is due by `now` in the ledger. `dry_run`: only say who
        (in `report.wanted`), for `reflect reminders preview`. While another process holds the
        planner's lease this does nothing (`report.planned_elsewhere`)."""
        if dry_run or self.leases is None:
            return self._plan(now=now, dry_run=dry_run)
        if not self.leases.take(PLANNER, holder=self.holder, now=self._now(now), lease=PLAN_LEASE):
            return PlanReport(planned_elsewhere=True)
        try:
            return self._plan(now=now, dry_run=False)
        finally:
            self.leases.give_up(PLANNER, holder=self.holder)

    def _still_planning(self, now: dt.datetime) -> None:
        """Keep the planner's lease through a long pass (member lists, users.list pages)."""
        if self.leases is not None:
            self.leases.take(PLANNER, holder=self.holder, now=self._now(now), lease=PLAN_LEASE)

    def _now(self, now: dt.datetime) -> dt.datetime:
        return self.clock() if self.clock is not None else now

    def _plan(self, *, now: dt.datetime, dry_run: bool) -> PlanReport:
        report = PlanReport()
        people: dict[str, _Candidate] = {}
        teams = self.teams.active()
        cached = self.member_lists.read_all() if self.member_lists is not None else {}
        opt_outs = self.teams.opt_outs_by_channel([team.channel for team in teams])
        refreshing = True
        for team in teams:
            members, refreshing = self._members(team, report, cached, now, refreshing=refreshing)
            if members is None:
                continue
            opted_out = opt_outs.get(team.channel, set())
            for user in members:
                person = self._pseudonym(team.workspace, user)
                if person in opted_out:
                    continue
                people.setdefault(person, _Candidate(user=user, teams=[])).teams.append(team)
        if not people:
            return report
        self.profiles.load()
        self._look_up_in_bulk(people, now=now)
        # Skip quickly everyone already in the ledger for their week (by their cached zone).
        zones = [zone(name) for name in self._known_zones() | {None}]
        weeks = {
            week_key(now=moment, tz=tz) for tz in zones for moment in (now, now - self.late_after)
        }
        planned = self.ledger.planned(weeks=weeks)
        wanted: list[Planned] = []
        for person, candidate in people.items():
            profile = self.profiles.cached(person)
            if profile is not None and (person, week_key(now=now, tz=zone(profile.tz))) in planned:
                continue
            wanted += self._plan_person(person, candidate, now=now, planned=planned, report=report)
        if wanted:  # the consent text goes to those never reminded for that team (one read)
            before = self.ledger.sent_before((row.person, row.channel) for row in wanted)
            wanted = [
                replace(row, consent=(row.person, row.channel) not in before) for row in wanted
            ]
        report.wanted = wanted
        if dry_run:
            return report
        for row in self.ledger.add_all(wanted, now=now):
            if row.skipped:
                report.late += 1
            else:
                report.added += 1
        if report.added or report.late:
            log.info("weekly reminders: %s", report)
        return report

    def _look_up_in_bulk(self, people: dict[str, _Candidate], *, now: dt.datetime) -> None:
        """One users.list pass per workspace (per installation) where many people are unknown
        or stale."""
        by_reach: dict[str, dict[str, str]] = {}
        for person, candidate in people.items():
            by_reach.setdefault(candidate.reach, {})[person] = candidate.user
        for reach, members in by_reach.items():
            self.profiles.look_up_many(
                members,
                now=now,
                slack=self.slack_for(reach),
                sleep=self.sleep,
                progress=lambda: self._still_planning(now),
            )

    def _known_zones(self) -> set[str | None]:
        return self.profiles.zones()

    def _members(
        self,
        team: Team,
        report: PlanReport,
        cached: dict[str, tuple[list[str], dt.datetime]],
        now: dt.datetime,
        *,
        refreshing: bool,
    ) -> tuple[list[str] | None, bool]:
        """A team's members: the shared list while fresh, else from Slack (and kept). Once
        Slack says wait, the teams that have a list (stale) use it for this round, and only
        those with none wait. Returns the members (None: unreadable now) and whether to go
        on refreshing."""
        key = self.member_lists.key(team.channel) if self.member_lists is not None else ""
        known = cached.get(key)
        if known is not None and now - known[1] < MEMBERS_FRESH:
            return known[0], refreshing
        if known is not None and not refreshing:
            return known[0], False
        for _ in range(5):
            try:
                members = self.slack_for(team.reach).channel_members(team.channel)
            except RateLimited as limited:
                if known is not None:
                    return known[0], False
                self.sleep(limited.retry_after)
                continue
            except SlackRefused as refused:
                if refused.error in UNREADABLE:
                    if team.problem != refused.error:
                        self.teams.report_problem(channel=team.channel, problem=refused.error)
                        log.warning(
                            "weekly reminders: a team's channel cannot be read (%s)", refused.error
                        )
                    report.unreadable.append(team.channel)
                    return None, refreshing
                log.warning("weekly reminders: members unavailable (%s)", refused.error)
                return (known[0] if known else None), refreshing
            except SlackUnavailable:
                log.warning("weekly reminders: Slack unavailable while reading a team")
                return (known[0] if known else None), refreshing
            if team.problem:
                self.teams.report_problem(channel=team.channel, problem=None)
            if self.member_lists is not None:
                self.member_lists.keep(team.channel, members, now=now)
                self._still_planning(now)
            return members, refreshing
        return (known[0] if known else None), refreshing

    def _plan_person(
        self,
        person: str,
        candidate: _Candidate,
        *,
        now: dt.datetime,
        planned: set[tuple[str, str]],
        report: PlanReport,
    ) -> list[Planned]:
        profile = None
        for _ in range(5):
            try:
                profile = self.profiles.get(
                    person=person,
                    user=candidate.user,
                    now=now,
                    slack=self.slack_for(candidate.reach),
                )
                break
            except RateLimited as limited:
                self.sleep(limited.retry_after)
            except (SlackUnavailable, SlackRefused):
                return []  # try again on the next round
        if profile is None or profile.deleted or profile.is_bot:
            return []
        tz = zone(profile.tz)
        settings = (
            profile.tz,
            tuple((t.channel, t.when, t.switched_on_at) for t in candidate.teams),
        )
        # Last week too, while its reminder could still be on time: a Sunday-evening reminder after
        # downtime may be due early on Monday, in the next week.
        weeks = [(week_key(now=now, tz=tz), now)]
        earlier = now - self.late_after
        if week_key(now=earlier, tz=tz) != weeks[0][0]:
            weeks.insert(0, (week_key(now=earlier, tz=tz), earlier))
        waiting = self._waiting.get(person)
        if len(weeks) == 1 and waiting and waiting[0] == settings and now < waiting[1]:
            self._note_next(report, waiting[1])
            return []
        rows: list[Planned] = []
        for week, anchor in weeks:
            if (person, week) in planned:
                continue
            chosen = self._earliest(candidate.teams, tz=tz, anchor=anchor)
            if chosen is None:
                continue
            due, team = chosen
            when = timing(due=due, now=now, late_after=self.late_after)
            if when == "early":
                self._waiting[person] = (settings, due)
                self._note_next(report, due)
                continue
            self._waiting.pop(person, None)
            rows.append(
                Planned(
                    person=person,
                    week=week,
                    kind="weekly",
                    channel=team.channel,
                    recipient_sealed=self.keyring.seal(candidate.user, aad=recipient_aad(person)),
                    consent=True,  # until the ledger says otherwise (see _plan)
                    due_at=due,
                    skipped="late" if when == "late" else None,
                )
            )
        return rows

    @staticmethod
    def _earliest(
        teams: list[Team], *, tz: ZoneInfo, anchor: dt.datetime
    ) -> tuple[dt.datetime, Team] | None:
        """The earliest of the person's teams' due times in the week of `anchor`."""
        chosen: tuple[dt.datetime, Team] | None = None
        for team in teams:
            due = due_instant(when=team.when, tz=tz, now=anchor)
            if due < team.switched_on_at:
                continue  # that week's time had passed when the team was switched on
            if chosen is None or (due, team.channel) < (chosen[0], chosen[1].channel):
                chosen = (due, team)
        return chosen

    @staticmethod
    def _note_next(report: PlanReport, due: dt.datetime) -> None:
        if report.next_due is None or due < report.next_due:
            report.next_due = due
