"""The weekly reminder's buttons: start the check-in (or another flow), "Not for me", "Remind
me later", and App Home's "Nudge me again" / "Not for me" (`/reflect weekly ...` is
bot.slack.services.weekly.command). A click by anyone but the reminder's owner changes
nothing. After a click the reminder's buttons give way to a note, so an old reminder cannot be
clicked twice."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.slack.listeners.home import refresh_home
from bot.slack.parts import Parts
from bot.slack.respond import respond
from bot.slack.services.weekly import noted, offered, owns, started, weekly_of
from bot.slack.views.reminder import CHOOSE, LATER, NOT_FOR_ME, START
from bot.slack.views.weekly_home import OPT_IN, OPT_OUT


def register(app: App, parts: Parts) -> None:
    @app.action(START)
    @app.action(CHOOSE)
    def on_start(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        entry_id, _, flow_id = str(raw).partition(":")
        mine = owns(parts, entry_id)
        respond(
            parts,
            ack=ack,
            context=context,
            greet=True,
            guard=lambda person: bool(flow_id) and mine(person),
            engine=lambda person: parts.conversations.start(person, flow_id),
            then=started(parts, body, flow_id=flow_id, context=context),
        )

    @app.action(NOT_FOR_ME)
    @app.action(LATER)
    def on_answer(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        entry_id, later = str(action.get("value") or ""), action.get("action_id") == LATER

        def answer(person: Person) -> str:
            weekly, who = weekly_of(parts, person)
            return (weekly.remind_later if later else weekly.not_for_me)(who=who, entry_id=entry_id)

        respond(
            parts,
            ack=ack,
            context=context,
            guard=owns(parts, entry_id),
            engine=answer,
            then=lambda person, note: noted(parts, body, note),
        )

    @app.action(OPT_IN)
    @app.action(OPT_OUT)
    def on_home_choice(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        channel, opt_in = str(action.get("value") or ""), action.get("action_id") == OPT_IN

        def choose(person: Person) -> None:
            weekly, who = weekly_of(parts, person)
            (weekly.opt_in if opt_in else weekly.opt_out)(who=who, channel=channel)

        respond(
            parts,
            ack=ack,
            context=context,
            guard=offered(parts),
            engine=choose,
            then=lambda person, _: refresh_home(parts, context, person),
        )
