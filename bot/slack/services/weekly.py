"""What the weekly reminders' listeners hand on: `/reflect weekly ...`, and the guards and
notes their buttons share. The weekly service itself is bot.weekly.actions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.identity import installation_in
from bot.slack.listeners.actions import replace_controls
from bot.slack.listeners.events import readable
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, respond
from bot.slack.services.greeting import say_greeted
from bot.weekly import copy
from bot.weekly.actions import WeeklyActions, Who

#: The block of a weekly reminder whose buttons give way to a note once one is clicked.
REMINDER_BLOCK = "weekly_nudge"


def command(parts: Parts, *, ack: Ack, context: BoltContext, command: dict[str, Any]) -> None:
    """`/reflect weekly ...`: acked at once, worked out on the person's lane (it may ask Slack
    who is in the channel), and answered to the person only, through the command's response
    URL."""
    text, url = readable(command.get("text")), str(command.get("response_url") or "")

    def then(person: Person, _: None) -> Job:
        weekly, who = weekly_of(parts, person)
        if parts.token_for is not None:  # installed over OAuth: remind through this install
            who = dataclasses.replace(who, installation=installation_in(context))

        def work_and_answer() -> None:
            answer = weekly.command(who=who, text=text, here=context.channel_id)
            parts.delivery.respond(url, text=answer)

        return work_and_answer

    respond(
        parts,
        ack=ack,
        context=context,
        guard=offered(parts),
        engine=lambda _: None,
        then=then,
        transaction=False,
    )


def started(
    parts: Parts, body: dict[str, Any], *, flow_id: str, context: BoltContext
) -> Callable[[Person, list[Reply]], Job]:
    """After the ack: the reminder's buttons give way to a note, then the flow's first step
    (greeting the person by name)."""

    def then(person: Person, replies: list[Reply]) -> Job:
        flow = parts.conversations.library.get(flow_id)
        note = copy.text("reminder.started", title=flow.title if flow else flow_id)
        return say_greeted(
            parts,
            context=context,
            person=person,
            said=Handled(tuple(replies)),
            user_id=context.user_id,
            before=noted(parts, body, note),
        )

    return then


def weekly_of(parts: Parts, person: Person) -> tuple[WeeklyActions, Who]:
    weekly = parts.weekly
    who = weekly.who_is(person) if weekly else None
    assert weekly is not None and who is not None  # guarded by `offered` / `owns`
    return weekly, who


def offered(parts: Parts) -> Callable[[Person], bool]:
    """A guard: the weekly reminders are on offer and the person is a Slack user."""
    return lambda person: parts.weekly is not None and parts.weekly.who_is(person) is not None


def owns(parts: Parts, entry_id: str) -> Callable[[Person], bool]:
    """A guard: the reminder behind a button is this person's."""

    def mine(person: Person) -> bool:
        if not offered(parts)(person):
            return False
        weekly, who = weekly_of(parts, person)
        return weekly.entry(who=who, entry_id=entry_id) is not None

    return mine


def noted(parts: Parts, body: dict[str, Any], note: str) -> Job:
    """The lane job that puts `note` in place of the reminder's buttons."""
    return lambda: replace_controls(parts, body, block_id=REMINDER_BLOCK, note=note)
