"""Buttons outside a question: starting a flow, and answering the supervisor nudge."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.blocks import compose
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
        ack()
        posts = compose(replies, owner=owner_tag(person))
        parts.lanes.submit(
            person.id, lambda: parts.delivery.post_to_dm(user_id=user_id, posts=posts)
        )

    @app.action(re.compile(r"^nudge_book:\d+$"))
    def on_book(ack: Ack, context: BoltContext) -> None:
        person = parts.person(context)
        if person is not None:
            parts.conversations.nudge_answered(person, followed=True)
        ack()

    @app.action("nudge_not_now")
    def on_not_now(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        person = parts.person(context)
        if person is None or action.get("block_id") != f"nudge|{owner_tag(person)}":
            ack()
            return
        parts.conversations.nudge_answered(person, followed=False)
        ack()
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if not (channel and ts):
            return
        blocks = with_answer(
            message.get("blocks") or [],
            asked_block=action["block_id"],
            note=copy.text("nudge.declined"),
        )
        text = message.get("text") or ""
        parts.lanes.submit(
            person.id,
            lambda: parts.delivery.update(channel=channel, ts=ts, text=text, blocks=blocks),
        )
