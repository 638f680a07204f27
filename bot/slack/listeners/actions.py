"""Buttons outside a question: starting a flow, and answering the supervisor suggestion."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.identity import owner_tag
from bot.slack.listeners.command import post_to_dm
from bot.slack.parts import Parts
from bot.slack.views import copy, notices
from bot.slack.views.blocks import NOT_NOW_ACTION, SUGGESTION_BLOCK, compose
from bot.slack.views.booking import OPEN_ACTION
from bot.slack.views.questions import with_answer


def register(app: App, parts: Parts) -> None:
    @app.action(re.compile(r"^start:"))
    def on_start(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        person = parts.person(context, greet=True)
        user_id = context.user_id
        if person is None or not user_id:
            ack()
            return
        with parts.locks.hold(person), parts.store.writing():  # one commit, before the ack
            replies = parts.conversations.start(person, str(action.get("value") or ""))
            first = notices.first_posts(parts, person)
        ack()
        posts = first + compose(replies, owner=owner_tag(person))
        parts.lanes.submit(person.id, lambda: post_to_dm(parts, user_id=user_id, posts=posts))

    @app.action(re.compile(rf"^{OPEN_ACTION}:\d+$"))
    def on_open(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        # The booking page opens in the browser; that is all we know (not that they booked).
        # Counted only for the person it was shown to (the block names them); the store keeps
        # one a day, and the aggregates count people, not clicks.
        person = parts.person(context)
        block = str(action.get("block_id") or "")
        if person is not None and block.startswith(f"{OPEN_ACTION}|{owner_tag(person)}|"):
            parts.conversations.suggestion_answered(person, opened=True)
        ack()

    @app.action(NOT_NOW_ACTION)
    def on_not_now(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        person = parts.person(context)
        if person is None or action.get("block_id") != f"{SUGGESTION_BLOCK}|{owner_tag(person)}":
            ack()
            return
        parts.conversations.suggestion_answered(person, opened=False)
        ack()
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if not (channel and ts):
            return
        blocks = with_answer(
            message.get("blocks") or [],
            asked_block=action["block_id"],
            note=copy.text("booking.declined"),
        )
        text = message.get("text") or ""
        parts.lanes.submit(
            person.id,
            lambda: parts.delivery.update(channel=channel, ts=ts, text=text, blocks=blocks),
        )
