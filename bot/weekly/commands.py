"""Weekly nudges, seen from Slack: `/reflect weekly ...`, the App Home section, and what the
nudge's buttons change (bot.slack.listeners.weekly_actions registers the buttons).

A team is a channel. `/reflect weekly on #channel [day] [time]` switches it on (default Friday
16:00 in each person's own time zone); `off` and `status`. Only the person who switched a team
on, a workspace admin (users.info) or someone in REFLECT_WEEKLY_ADMINS may change it. The lead's
App Home shows their teams and, in groups of at least REFLECT_MIN_GROUP_SIZE, how many people
took part last week: never who.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.engine.people import Person
from bot.settings import Settings
from bot.slack.delivery.reminder_api import NudgeSlack, RateLimited, SlackRefused, SlackUnavailable
from bot.store.weekly.ledger import Ledger, LedgerEntry
from bot.store.weekly.tables import Transactions
from bot.store.weekly.teams import Team, Teams
from bot.weekly import copy
from bot.weekly.due import (
    DEFAULT_DAY,
    DEFAULT_TIME,
    ScheduleError,
    WeeklyTime,
    parse_day,
    parse_time,
)
from bot.weekly.privacy import Keyring, lead_aad, slack_identity

if TYPE_CHECKING:
    from slack_bolt import Ack, BoltContext

    from bot.slack.parts import Parts

log = logging.getLogger(__name__)

#: `<#C123|name>` or `<#C123>` as Slack escapes a channel in a slash command; or a bare id.
_CHANNEL = re.compile(r"^<#(?P<id>[CG][A-Z0-9]+)(?:\|[^>]*)?>$|^(?P<bare>[CG][A-Z0-9]{6,})$")
#: How long "Remind me later" waits.
REMIND_AFTER = dt.timedelta(hours=3)
#: `action_id` of App Home's "Nudge me again" (opt back in to a team's nudges).
OPT_IN = "weekly_opt_in"
#: `action_id` of App Home's "Not for me" beside a team the person is nudged by.
OPT_OUT = "weekly_opt_out"


class Reflected(Protocol):
    def people_who_reflected(
        self, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
    ) -> set[str]: ...


@dataclass(frozen=True)
class Who:
    """A Slack user as the weekly nudges know them: workspace, user id, pseudonym."""

    workspace: str
    user: str
    person: str

    def __repr__(self) -> str:
        return "Who(<redacted>)"


def channel_of(text: str) -> str | None:
    match = _CHANNEL.match(text.strip())
    if not match:
        return None
    return match["id"] or match["bare"]


class Weekly:
    def __init__(
        self,
        *,
        db: Transactions,
        keyring: Keyring,
        slack: NudgeSlack,
        settings: Settings,
        clock: Callable[[], dt.datetime],
        reflected: Reflected | None = None,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.slack = slack
        self.settings = settings
        self.clock = clock
        self.reflected = reflected

    def who(self, *, workspace: str, user: str) -> Who:
        identity = slack_identity(workspace=workspace, user=user)
        return Who(workspace=workspace, user=user, person=self.keyring.pseudonym(identity))

    def who_is(self, person: Person) -> Who | None:
        workspace, _, user = person.id.rpartition(":")
        return self.who(workspace=workspace, user=user) if workspace and user else None

    # ------------------------------------------------------------------ /reflect weekly

    def command(self, *, who: Who, text: str, here: str | None = None) -> str:
        """What `/reflect weekly ...` does; the answer to show the person (only to them).
        `here` is the channel the command was typed in: the team, when none is named."""
        words = text.split()
        if words and words[0].lower() == "weekly":
            words = words[1:]
        action = words[0].lower() if words else ""
        try:
            if action == "on":
                return self._on(who, words[1:], here=here)
            if action == "off":
                return self._off(who, words[1:], here=here)
            if action == "status":
                return self._status(who)
        except (RateLimited, SlackUnavailable):
            return copy.text("weekly.slack_busy")
        return copy.text("weekly.usage")

    def _on(self, who: Who, args: list[str], *, here: str | None) -> str:
        channel, args = _team_channel(args, here=here)
        if channel is None:
            return copy.text("weekly.need_channel")
        try:
            when = _when(args)
        except ScheduleError as error:
            return f"{error}\n{copy.text('weekly.usage')}"
        teams = Teams(self.db, keyring=self.keyring)
        team = teams.get(channel)
        if team is not None and team.active and not self._may_change(who, team):
            return copy.text("weekly.not_allowed", channel=channel)
        try:
            members = self.slack.channel_members(channel)
        except SlackRefused as refused:
            if refused.error == "missing_scope":
                return copy.text("weekly.missing_scope")
            return copy.text("weekly.cannot_read", channel=channel)
        joining = team is None or not team.active
        if joining and who.user not in members and not self._is_admin(who):
            return copy.text("weekly.not_a_member", channel=channel)
        now = self.clock()
        lead = who.person
        if team is not None and team.active:
            lead = team.lead
        teams.switch_on(
            channel=channel,
            workspace=who.workspace,
            when=when,
            lead=lead,
            lead_sealed=(
                team.lead_sealed
                if team is not None and team.active
                else self.keyring.seal(who.user, aad=lead_aad(channel=channel, lead=lead))
            ),
            now=now,
        )
        log.info("weekly nudges switched on or changed for a team")
        key = "weekly.changed" if team is not None and team.active else "weekly.switched_on"
        return copy.text(key, channel=channel, when=when.describe())

    def _off(self, who: Who, args: list[str], *, here: str | None) -> str:
        channel, _ = _team_channel(args, here=here)
        if channel is None:
            return copy.text("weekly.need_channel")
        teams = Teams(self.db, keyring=self.keyring)
        team = teams.get(channel)
        if team is None or not team.active:
            return copy.text("weekly.already_off", channel=channel)
        if not self._may_change(who, team):
            return copy.text("weekly.not_allowed", channel=channel)
        teams.switch_off(channel=channel, now=self.clock())
        log.info("weekly nudges switched off for a team")
        return copy.text("weekly.switched_off", channel=channel)

    def _status(self, who: Who) -> str:
        led = Teams(self.db, keyring=self.keyring).led_by(who.person)
        if not led:
            return copy.text("weekly.none")
        return "\n".join(_status_line(team) for team in led)

    def _may_change(self, who: Who, team: Team) -> bool:
        return who.person == team.lead or self._is_admin(who)

    def _is_admin(self, who: Who) -> bool:
        if who.user in self.settings.weekly_admins:
            return True
        try:
            return self.slack.profile(who.user).is_admin
        except SlackRefused:
            return False

    # ------------------------------------------------------------------ App Home

    def __call__(self, person: Person) -> list[Block]:
        """The App Home section (bot.slack.listeners.home's `weekly` hook)."""
        who = self.who_is(person)
        if who is None:
            return []
        teams = Teams(self.db, keyring=self.keyring)
        led = teams.led_by(who.person)
        opted_out = teams.opted_out_teams(who.person)
        left_out = {team.channel for team in opted_out}
        nudged_by = [
            team
            for channel in sorted(Ledger(self.db).channels_of(who.person) - left_out)
            if (team := teams.get(channel)) is not None and team.active
        ]
        if not led and not opted_out and not nudged_by:
            return []
        blocks: list[Block] = [DividerBlock(), HeaderBlock(text=copy.text("home.title"))]
        if led:
            blocks.append(ContextBlock(elements=[_mrkdwn(copy.text("home.lead_intro"))]))
            for team in led[:10]:
                line = copy.text("home.team", channel=team.channel, state=_state(team))
                took_part = self._took_part(team)
                blocks.append(SectionBlock(text=f"{line}\n{took_part}" if took_part else line))
        if nudged_by:
            blocks.append(SectionBlock(text=copy.text("home.nudged_intro")))
            for team in nudged_by[:10]:
                blocks.append(
                    SectionBlock(
                        text=copy.text(
                            "home.nudged_team", channel=team.channel, when=team.when.describe()
                        ),
                        accessory=ButtonElement(
                            text=copy.text("nudge.not_for_me"),
                            action_id=OPT_OUT,
                            value=team.channel,
                        ),
                    )
                )
        if opted_out:
            blocks.append(SectionBlock(text=copy.text("home.opted_out_intro")))
            for team in opted_out[:10]:
                blocks.append(
                    SectionBlock(
                        text=f"<#{team.channel}>",
                        accessory=ButtonElement(
                            text=copy.text("home.opt_back_in"),
                            action_id=OPT_IN,
                            value=team.channel,
                        ),
                    )
                )
        return blocks

    def _took_part(self, team: Team) -> str | None:
        """How many of last week's nudged people reflected that week, if enough to show."""
        if self.reflected is None:
            return None
        now = self.clock()
        year, week, _ = (now - dt.timedelta(days=7)).isocalendar()
        nudged = Ledger(self.db).nudged(channel=team.channel, week=f"{year}-W{week:02d}")
        if not nudged:
            return None
        start = min(nudged.values())
        people = self.reflected.people_who_reflected(
            flow_id=None, since=start, until=start + dt.timedelta(days=7)
        )
        count = len(people & set(nudged))
        minimum = self.settings.min_group_size
        if count < minimum:
            return copy.text("home.took_part_few", minimum=minimum)
        if len(nudged) - count < minimum:  # the number would nearly say who did not
            return copy.text("home.took_part_most", minimum=minimum)
        return copy.text("home.took_part", count=count)

    # ------------------------------------------------------------------ the nudge's buttons

    def entry(self, *, who: Who, entry_id: str) -> LedgerEntry | None:
        """The nudge behind a button, if it is this person's."""
        entry = Ledger(self.db).get(entry_id)
        if entry is None or entry.person != who.person:
            return None
        return entry

    def not_for_me(self, *, who: Who, entry_id: str) -> str:
        entry = self.entry(who=who, entry_id=entry_id)
        if entry is None:
            return copy.text("nudge.not_yours")
        Teams(self.db, keyring=self.keyring).opt_out(
            channel=entry.channel, person=who.person, now=self.clock()
        )
        log.info("someone opted out of a team's weekly nudges")
        return copy.text("nudge.opted_out", channel=entry.channel)

    def remind_later(self, *, who: Who, entry_id: str) -> str:
        entry = self.entry(who=who, entry_id=entry_id)
        if entry is None:
            return copy.text("nudge.not_yours")
        now = self.clock()
        added = Ledger(self.db).add(
            person=who.person,
            week=entry.week,
            kind="reminder",
            channel=entry.channel,
            recipient_sealed=entry.recipient_sealed,
            consent=False,
            due_at=now + REMIND_AFTER,
            now=now,
        )
        if not added:
            return copy.text("nudge.remind_already")
        return copy.text("nudge.remind_set", hours=int(REMIND_AFTER.total_seconds() // 3600))

    def opt_in(self, *, who: Who, channel: str) -> bool:
        return Teams(self.db, keyring=self.keyring).opt_in(channel=channel, person=who.person)

    def opt_out(self, *, who: Who, channel: str) -> None:
        Teams(self.db, keyring=self.keyring).opt_out(
            channel=channel, person=who.person, now=self.clock()
        )


def _team_channel(args: list[str], *, here: str | None) -> tuple[str | None, list[str]]:
    """The team's channel and the words after it: the channel named first, else the channel
    the command was typed in (not a DM)."""
    named = channel_of(args[0]) if args else None
    if named is not None:
        return named, args[1:]
    if args and args[0].startswith("#"):
        return None, args  # a plain #name: Slack did not say which channel it is
    if here and here[:1] in ("C", "G"):
        return here, args
    return None, args


def _when(args: list[str]) -> WeeklyTime:
    """`[day] [time]` in either order; what is left out is the default (Friday 16:00)."""
    day: int | None = None
    time: dt.time | None = None
    for word in args:
        if day is None:
            try:
                day = parse_day(word)
                continue
            except ScheduleError:
                pass
        if time is None:
            try:
                time = parse_time(word)
                continue
            except ScheduleError:
                pass
        raise ScheduleError(f'"{word}" is not a day or a time here (try "friday 16:00").')
    return WeeklyTime(
        day=DEFAULT_DAY if day is None else day, time=DEFAULT_TIME if time is None else time
    )


def _state(team: Team) -> str:
    if not team.active:
        return copy.text("weekly.state_off")
    state = copy.text("weekly.state_on", when=team.when.describe())
    return state + (copy.text("weekly.problem") if team.problem else "")


def _status_line(team: Team) -> str:
    return copy.text("weekly.status_line", channel=team.channel, state=_state(team))


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


_BUILT: dict[int, Weekly] = {}
_BUILT_LOCK = threading.Lock()


def for_store(
    store: object, *, settings: Settings, clock: Callable[[], dt.datetime] | None = None
) -> Weekly | None:
    """The weekly nudges over the bot's store (its database file and keyring), made once per
    store. None for a store without them (e.g. an in-memory one in tests of other parts)."""
    keyring = getattr(store, "keyring", None)
    if keyring is None or not hasattr(store, "writing"):
        return None
    if not getattr(store, "keeps_weekly_tables", True):  # the PostgreSQL store, for now
        return None
    with _BUILT_LOCK:
        weekly = _BUILT.get(id(store))
        if weekly is None or weekly.keyring is not keyring or weekly.db is not store:
            from bot.weekly.service import slack_for, utcnow

            reflected = store if hasattr(store, "people_who_reflected") else None
            weekly = Weekly(
                db=store,  # type: ignore[arg-type]
                keyring=keyring,
                slack=slack_for(settings),
                settings=settings,
                clock=clock or utcnow,
                reflected=reflected,
            )
            _BUILT[id(store)] = weekly
        return weekly


def on_command(parts: Parts, *, ack: Ack, context: BoltContext, text: str) -> None:
    """`/reflect weekly ...`: answered to the person only, in the slash command's response."""
    service = for_store(parts.store, settings=parts.settings, clock=parts.clock)
    person = parts.person(context)
    who = service.who_is(person) if service and person else None
    if service is None or who is None:
        ack()
        return
    ack(text=service.command(who=who, text=text, here=context.channel_id))
