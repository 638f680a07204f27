"""`/reflect weekly ...` read into a command, and who may change a team: pure, no I/O.

A team is a channel. `/reflect weekly on #channel [day] [time]` switches it on (default Friday
16:00 in each person's own time zone); `off` and `status`. Only the person who switched a team
on, a workspace admin or someone in REFLECT_WEEKLY_ADMINS may change it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from bot.weekly import copy
from bot.weekly.due import (
    DEFAULT_DAY,
    DEFAULT_TIME,
    ScheduleError,
    WeeklyTime,
    parse_day,
    parse_time,
)

#: `<#C123|name>` or `<#C123>` as Slack escapes a channel in a slash command; or a bare id.
_CHANNEL = re.compile(r"^<#(?P<id>[CG][A-Z0-9]+)(?:\|[^>]*)?>$|^(?P<bare>[CG][A-Z0-9]{6,})$")

Action = Literal["on", "off", "status", "usage"]


@dataclass(frozen=True)
class Command:
    """What `/reflect weekly ...` asks for. `problem`: the answer to give instead, if the
    command cannot be carried out as written (no channel, a word that is not a day or time)."""

    action: Action
    channel: str | None = None
    when: WeeklyTime | None = None
    problem: str | None = None


def parse(text: str, *, here: str | None) -> Command:
    """Read `/reflect weekly ...`. `here` is the channel the command was typed in: the team,
    when none is named."""
    words = text.split()
    if words and words[0].lower() == "weekly":
        words = words[1:]
    action = words[0].lower() if words else ""
    if action == "status":
        return Command("status")
    if action not in ("on", "off"):
        return Command("usage")
    channel, rest = team_channel(words[1:], here=here)
    if channel is None:
        return Command("on" if action == "on" else "off", problem=copy.text("weekly.need_channel"))
    if action == "off":
        return Command("off", channel=channel)
    try:
        return Command("on", channel=channel, when=when(rest))
    except ScheduleError as error:
        return Command("on", channel=channel, problem=f"{error}\n{copy.text('weekly.usage')}")


def may_change(*, person: str, lead: str, is_admin: bool) -> bool:
    """Whether a person (pseudonym) may change a team that is on: its lead, or an admin."""
    return person == lead or is_admin


def channel_of(text: str) -> str | None:
    match = _CHANNEL.match(text.strip())
    if not match:
        return None
    return match["id"] or match["bare"]


def team_channel(args: list[str], *, here: str | None) -> tuple[str | None, list[str]]:
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


def when(args: list[str]) -> WeeklyTime:
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
