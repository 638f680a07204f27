"""The weekly nudge's buttons: start the check-in (or another flow), "Not for me", "Remind me
later", and App Home's "Nudge me again". A click by anyone but the nudge's owner changes
nothing. After a click the nudge's buttons give way to a note, so an old nudge cannot be
clicked twice."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.identity import owner_tag
from bot.slack.listeners import home
from bot.slack.listeners.command import post_to_dm
from bot.slack.parts import Parts
from bot.slack.views.blocks import compose
from bot.slack.views.questions import with_answer
from bot.slack.views.reminder import CHOOSE, LATER, NOT_FOR_ME, START
from bot.weekly import copy
from bot.weekly.commands import OPT_IN, OPT_OUT, Weekly, Who, for_store

log = logging.getLogger(__name__)

NUDGE_BLOCK = "weekly_nudge"


def register(app: App, parts: Parts) -> None:
    def weekly() -> Weekly | None:
        return for_store(parts.store, settings=parts.settings, clock=parts.clock)

    def who_clicked(context: BoltContext) -> Who | None:
        person = parts.person(context)
        service = weekly()
        return service.who_is(person) if service and person else None

    @app.action(START)
    @app.action(CHOOSE)
    def on_start(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        service, who = weekly(), who_clicked(context)
        person = parts.person(context, greet=True)
        raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        entry_id, _, flow_id = str(raw).partition(":")
        if service is None or who is None or person is None or not flow_id:
            ack()
            return
        if service.entry(who=who, entry_id=entry_id) is None:
            ack()
            return  # not their nudge
        with parts.locks.hold(person):
            replies = parts.conversations.start(person, flow_id)  # stored before the ack
        ack()
        flow = parts.conversations.library.get(flow_id)
        note = copy.text("nudge.started", title=flow.title if flow else flow_id)
        _replace_buttons(parts, body, who=who, note=note)
        posts = compose(replies, owner=owner_tag(person))
        parts.lanes.submit(person.id, lambda: post_to_dm(parts, user_id=who.user, posts=posts))

    def answer_nudge(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, *, later: bool
    ) -> None:
        """Answer "Not for me" or "Remind me later", from the nudge's owner only."""
        service, who = weekly(), who_clicked(context)
        entry_id = str(action.get("value") or "")
        if service is None or who is None or service.entry(who=who, entry_id=entry_id) is None:
            ack()
            return
        answered = service.remind_later if later else service.not_for_me
        note = answered(who=who, entry_id=entry_id)
        ack()
        _replace_buttons(parts, body, who=who, note=note)

    @app.action(NOT_FOR_ME)
    def on_not_for_me(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        answer_nudge(ack, body, action, context, later=False)

    @app.action(LATER)
    def on_later(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        answer_nudge(ack, body, action, context, later=True)

    @app.action(OPT_IN)
    @app.action(OPT_OUT)
    def on_home_choice(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        service, who = weekly(), who_clicked(context)
        person = parts.person(context, greet=True)
        if service is None or who is None or person is None:
            ack()
            return
        channel = str(action.get("value") or "")
        if action.get("action_id") == OPT_IN:
            service.opt_in(who=who, channel=channel)
        else:
            service.opt_out(who=who, channel=channel)
        ack()
        view = home.home_view(parts, person, weekly=service)
        parts.lanes.submit(
            person.id, lambda: parts.delivery.publish_home(user_id=who.user, view=view)
        )


def _replace_buttons(parts: Parts, body: dict[str, Any], *, who: Who, note: str) -> None:
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not (channel and ts):
        return
    blocks = with_answer(message.get("blocks") or [], asked_block=NUDGE_BLOCK, note=note)
    text = message.get("text") or ""
    parts.lanes.submit(
        f"{who.workspace}:{who.user}",  # the person's lane: in order with their other posts
        lambda: parts.delivery.update(channel=channel, ts=ts, text=text, blocks=blocks),
    )
