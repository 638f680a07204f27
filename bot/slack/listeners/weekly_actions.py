"""The weekly reminder's buttons: start the check-in (or another flow), "Not for me", "Remind
me later", and App Home's "Nudge me again" / "Not for me"; and `/reflect weekly ...`. A click by
anyone but the reminder's owner changes nothing. After a click the reminder's buttons give way
to a note, so an old reminder cannot be clicked twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.listeners.actions import replace_controls
from bot.slack.listeners.events import readable
from bot.slack.listeners.home import refresh_home
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond, say
from bot.slack.views.reminder import CHOOSE, LATER, NOT_FOR_ME, START
from bot.slack.views.weekly_home import OPT_IN, OPT_OUT
from bot.weekly import copy
from bot.weekly.actions import WeeklyActions, Who

log = logging.getLogger(__name__)

REMINDER_BLOCK = "weekly_nudge"


def register(app: App, parts: Parts) -> None:
    @app.action(START)
    @app.action(CHOOSE)
    def on_start(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        entry_id, _, flow_id = str(raw).partition(":")
        mine = _owns(parts, entry_id)
        respond(
            parts,
            ack=ack,
            context=context,
            greet=True,
            guard=lambda person: bool(flow_id) and mine(person),
            engine=lambda person: parts.conversations.start(person, flow_id),
            then=_started(parts, body, flow_id=flow_id, user_id=context.user_id),
        )

    @app.action(NOT_FOR_ME)
    @app.action(LATER)
    def on_answer(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        entry_id, later = str(action.get("value") or ""), action.get("action_id") == LATER

        def answer(person: Person) -> str:
            weekly, who = _weekly(parts, person)
            answered = weekly.remind_later if later else weekly.not_for_me
            return answered(who=who, entry_id=entry_id)

        respond(
            parts,
            ack=ack,
            context=context,
            guard=_owns(parts, entry_id),
            engine=answer,
            then=lambda person, note: _note(parts, body, note),
        )

    @app.action(OPT_IN)
    @app.action(OPT_OUT)
    def on_home_choice(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        channel, opt_in = str(action.get("value") or ""), action.get("action_id") == OPT_IN

        def choose(person: Person) -> None:
            weekly, who = _weekly(parts, person)
            (weekly.opt_in if opt_in else weekly.opt_out)(who=who, channel=channel)

        respond(
            parts,
            ack=ack,
            context=context,
            guard=_offered(parts),
            engine=choose,
            then=lambda person, _: refresh_home(parts, context, person),
        )


def on_command(parts: Parts, *, ack: Ack, context: BoltContext, command: dict[str, Any]) -> None:
    """`/reflect weekly ...`: acked at once, worked out on the person's lane (it may ask Slack
    who is in the channel), and answered to the person only, through the command's response
    URL."""
    text, url = readable(command.get("text")), str(command.get("response_url") or "")

    def then(person: Person, _: None) -> Job:
        weekly, who = _weekly(parts, person)

        def work_and_answer() -> None:
            answer = weekly.command(who=who, text=text, here=context.channel_id)
            parts.delivery.respond(url, text=answer)

        return work_and_answer

    respond(
        parts,
        ack=ack,
        context=context,
        guard=_offered(parts),
        engine=lambda _: None,
        then=then,
        transaction=False,
    )


def _started(
    parts: Parts, body: dict[str, Any], *, flow_id: str, user_id: str | None
) -> Callable[[Person, list[Reply]], Job]:
    """After the ack: the reminder's buttons give way to a note, then the flow's first step."""

    def then(person: Person, replies: list[Reply]) -> Job:
        flow = parts.conversations.library.get(flow_id)
        note = copy.text("reminder.started", title=flow.title if flow else flow_id)
        return say(parts, person, replies, user_id=user_id, before=_note(parts, body, note))

    return then


def _weekly(parts: Parts, person: Person) -> tuple[WeeklyActions, Who]:
    weekly = parts.weekly
    who = weekly.who_is(person) if weekly else None
    assert weekly is not None and who is not None  # guarded by _offered / _owns
    return weekly, who


def _offered(parts: Parts) -> Callable[[Person], bool]:
    """A guard: the weekly reminders are on offer and the person is a Slack user."""
    return lambda person: parts.weekly is not None and parts.weekly.who_is(person) is not None


def _owns(parts: Parts, entry_id: str) -> Callable[[Person], bool]:
    """A guard: the reminder behind a button is this person's."""

    def owns(person: Person) -> bool:
        if not _offered(parts)(person):
            return False
        weekly, who = _weekly(parts, person)
        return weekly.entry(who=who, entry_id=entry_id) is not None

    return owns


def _note(parts: Parts, body: dict[str, Any], note: str) -> Job:
    return lambda: replace_controls(parts, body, block_id=REMINDER_BLOCK, note=note)
