"""What people do with the weekly reminders, over the store and Slack: a lead's
`/reflect weekly ...`, the reminder's buttons, and what their App Home shows.

Reading the command and deciding who may change a team is bot.weekly.commands (pure); drawing
the App Home section is bot.slack.views.weekly_home. A lead's App Home shows, in groups of at
least REFLECT_MIN_GROUP_SIZE, how many people took part last week: never who.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.engine.people import Person
from bot.settings import Settings
from bot.slack.delivery.reminder_api import (
    RateLimited,
    ReminderSlack,
    SlackRefused,
    SlackUnavailable,
)
from bot.store.weekly.ledger import Ledger, LedgerEntry, Planned
from bot.store.weekly.tables import Transactions
from bot.store.weekly.teams import Team, Teams
from bot.weekly import copy
from bot.weekly.commands import Command, may_change, parse
from bot.weekly.privacy import Keyring, lead_aad, slack_identity

log = logging.getLogger(__name__)

#: How long "Remind me later" waits.
REMIND_AFTER = dt.timedelta(hours=3)
#: How many teams of each kind the App Home lists.
HOME_TEAMS = 10


class Reflected(Protocol):
    def people_who_reflected(
        self, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
    ) -> set[str]: ...


@dataclass(frozen=True)
class Who:
    """A Slack user as the weekly reminders know them: workspace, user id, pseudonym."""

    workspace: str
    user: str
    person: str
    #: The installation the request came through (bot.slack.identity.installation_key), if
    #: installed over OAuth: a team switched on by this person is reminded through it.
    installation: str | None = None

    @property
    def lane(self) -> str:
        """The person's lane (bot.slack.delivery.lanes): the id the engine's Person has."""
        return f"{self.workspace}:{self.user}"

    def __repr__(self) -> str:
        return "Who(<redacted>)"


@dataclass(frozen=True)
class LedTeam:
    team: Team
    #: How many took part last week, as words safe to show (None: nothing to say yet).
    took_part: str | None


@dataclass(frozen=True)
class HomeSection:
    """What a person's App Home shows of the weekly reminders (empty: nothing)."""

    led: list[LedTeam] = field(default_factory=list)
    reminded_by: list[Team] = field(default_factory=list)
    opted_out: list[Team] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.led or self.reminded_by or self.opted_out)


class WeeklyActions:
    def __init__(
        self,
        *,
        db: Transactions,
        keyring: Keyring,
        slack: ReminderSlack,
        settings: Settings,
        clock: Callable[[], dt.datetime],
        reflected: Reflected | None = None,
    ) -> None:
        self.keyring = keyring
        self.slack = slack
        self.settings = settings
        self.clock = clock
        self.reflected = reflected
        self.teams = Teams(db, keyring=keyring)
        self.ledger = Ledger(db)

    def who(self, *, workspace: str, user: str) -> Who:
        identity = slack_identity(workspace=workspace, user=user)
        return Who(workspace=workspace, user=user, person=self.keyring.pseudonym(identity))

    def who_is(self, person: Person) -> Who | None:
        workspace, _, user = person.id.rpartition(":")
        return self.who(workspace=workspace, user=user) if workspace and user else None

    # ------------------------------------------------------------------ /reflect weekly

    def command(self, *, who: Who, text: str, here: str | None = None) -> str:
        """What `/reflect weekly ...` does; the answer to show the person (only to them)."""
        command = parse(text, here=here)
        if command.problem is not None:
            return command.problem
        try:
            if command.action == "on":
                return self._on(who, command)
            if command.action == "off":
                return self._off(who, command)
            if command.action == "status":
                return self._status(who)
        except (RateLimited, SlackUnavailable):
            return copy.text("weekly.slack_busy")
        return copy.text("weekly.usage")

    def _on(self, who: Who, command: Command) -> str:
        channel, when = command.channel, command.when
        assert channel is not None and when is not None
        team = self.teams.get(channel)
        on = team is not None and team.active
        if team is not None and on and not self._may_change(who, team):
            return copy.text("weekly.not_allowed", channel=channel)
        try:
            members = self.slack.channel_members(channel)
        except SlackRefused as refused:
            if refused.error == "missing_scope":
                return copy.text("weekly.missing_scope")
            return copy.text("weekly.cannot_read", channel=channel)
        if not on and who.user not in members and not self._is_admin(who):
            return copy.text("weekly.not_a_member", channel=channel)
        lead = team.lead if team is not None and on else who.person
        sealed = (
            team.lead_sealed
            if team is not None and on
            else self.keyring.seal(who.user, aad=lead_aad(channel=channel, lead=lead))
        )
        self.teams.switch_on(
            channel=channel,
            workspace=who.workspace,
            when=when,
            lead=lead,
            lead_sealed=sealed,
            now=self.clock(),
            installation=who.installation,
        )
        log.info("weekly reminders switched on or changed for a team")
        key = "weekly.changed" if on else "weekly.switched_on"
        return copy.text(key, channel=channel, when=when.describe())

    def _off(self, who: Who, command: Command) -> str:
        channel = command.channel
        assert channel is not None
        team = self.teams.get(channel)
        if team is None or not team.active:
            return copy.text("weekly.already_off", channel=channel)
        if not self._may_change(who, team):
            return copy.text("weekly.not_allowed", channel=channel)
        self.teams.switch_off(channel=channel, now=self.clock())
        log.info("weekly reminders switched off for a team")
        return copy.text("weekly.switched_off", channel=channel)

    def _status(self, who: Who) -> str:
        led = self.teams.led_by(who.person)
        if not led:
            return copy.text("weekly.none")
        return "\n".join(
            copy.text("weekly.status_line", channel=team.channel, state=state(team)) for team in led
        )

    def _may_change(self, who: Who, team: Team) -> bool:
        is_admin = who.person != team.lead and self._is_admin(who)  # users.info only if need be
        return may_change(person=who.person, lead=team.lead, is_admin=is_admin)

    def _is_admin(self, who: Who) -> bool:
        if who.user in self.settings.weekly_admins:
            return True
        try:
            return self.slack.profile(who.user).is_admin
        except SlackRefused:
            return False

    # ------------------------------------------------------------------ App Home

    def home(self, person: Person) -> HomeSection:
        """What the person's App Home shows of the weekly reminders."""
        who = self.who_is(person)
        if who is None:
            return HomeSection()
        led = self.teams.led_by(who.person)
        opted_out = self.teams.opted_out_teams(who.person)
        left_out = {team.channel for team in opted_out}
        reminded_by = [
            team
            for channel in sorted(self.ledger.channels_of(who.person) - left_out)
            if (team := self.teams.get(channel)) is not None and team.active
        ]
        return HomeSection(
            led=[LedTeam(team, self._took_part(team)) for team in led[:HOME_TEAMS]],
            reminded_by=reminded_by[:HOME_TEAMS],
            opted_out=opted_out[:HOME_TEAMS],
        )

    def _took_part(self, team: Team) -> str | None:
        """How many of last week's reminded people reflected that week, if enough to show."""
        if self.reflected is None:
            return None
        now = self.clock()
        year, week, _ = (now - dt.timedelta(days=7)).isocalendar()
        reminded = self.ledger.reminded(channel=team.channel, week=f"{year}-W{week:02d}")
        if not reminded:
            return None
        start = min(reminded.values())
        people = self.reflected.people_who_reflected(
            flow_id=None, since=start, until=start + dt.timedelta(days=7)
        )
        count = len(people & set(reminded))
        minimum = self.settings.min_group_size
        if count < minimum:
            return copy.text("home.took_part_few", minimum=minimum)
        if len(reminded) - count < minimum:  # the number would nearly say who did not
            return copy.text("home.took_part_most", minimum=minimum)
        return copy.text("home.took_part", count=count)

    # ------------------------------------------------------------------ the reminder's buttons

    def entry(self, *, who: Who, entry_id: str) -> LedgerEntry | None:
        """The reminder behind a button, if it is this person's."""
        entry = self.ledger.get(entry_id)
        if entry is None or entry.person != who.person:
            return None
        return entry

    def not_for_me(self, *, who: Who, entry_id: str) -> str:
        entry = self.entry(who=who, entry_id=entry_id)
        if entry is None:
            return copy.text("reminder.not_yours")
        self.teams.opt_out(channel=entry.channel, person=who.person, now=self.clock())
        log.info("someone opted out of a team's weekly reminders")
        return copy.text("reminder.opted_out", channel=entry.channel)

    def remind_later(self, *, who: Who, entry_id: str) -> str:
        entry = self.entry(who=who, entry_id=entry_id)
        if entry is None:
            return copy.text("reminder.not_yours")
        now = self.clock()
        later = Planned(
            person=who.person,
            week=entry.week,
            kind="reminder",
            channel=entry.channel,
            recipient_sealed=entry.recipient_sealed,
            consent=False,
            due_at=now + REMIND_AFTER,
        )
        added = self.ledger.add(later, now=now)
        if not added:
            return copy.text("reminder.remind_already")
        return copy.text("reminder.remind_set", hours=int(REMIND_AFTER.total_seconds() // 3600))

    def opt_in(self, *, who: Who, channel: str) -> bool:
        return self.teams.opt_in(channel=channel, person=who.person)

    def opt_out(self, *, who: Who, channel: str) -> None:
        self.teams.opt_out(channel=channel, person=who.person, now=self.clock())


def state(team: Team) -> str:
    """A team's state in words: on (when), or off; and a problem reading its members."""
    if not team.active:
        return copy.text("weekly.state_off")
    on = copy.text("weekly.state_on", when=team.when.describe())
    return on + (copy.text("weekly.problem") if team.problem else "")
