"""Write privately: a free-text question's button opens a modal to write the answer in.

What is submitted in a modal is not a message, so it is not part of the workspace's Slack
history. The submission goes through the engine exactly as typed text does (the safety screen
first, then the answer), and the question's message is updated to say it was answered
privately, without the words.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import ContextBlock, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.engine.replies import Question, Reply
from bot.engine.support import Screened
from bot.slack.delivery import cleanup
from bot.slack.identity import owner_tag
from bot.slack.listeners import home
from bot.slack.listeners.command import post_to_dm
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.blocks import compose
from bot.slack.views.fitting import MODAL_TITLE, shorten
from bot.slack.views.mrkdwn import plain, sections
from bot.slack.views.questions import WRITE_PRIVATELY, read_block_id, with_answer

log = logging.getLogger(__name__)

CALLBACK_ID = "private_answer"
INPUT_BLOCK = "answer"
INPUT_ACTION = "answer_text"
#: Slack's longest plain-text input.
MOST_CHARACTERS = 3000


def answer_view(question: Question, *, metadata: str) -> View:
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        private_metadata=metadata,
        title=plain(shorten(copy.text("private.title"), limit=MODAL_TITLE)),
        submit=plain(copy.text("private.submit")),
        close=plain(copy.text("private.close")),
        blocks=[
            *sections(question.text),
            InputBlock(
                block_id=INPUT_BLOCK,
                label=plain(copy.text("private.label")),
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION, multiline=True, max_length=MOST_CHARACTERS
                ),
                optional=question.optional,
            ),
            ContextBlock(elements=[plain(copy.text("private.note"))]),
        ],
    )


def register(app: App, parts: Parts) -> None:
    @app.action(WRITE_PRIVATELY)
    def on_write(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        block = str(action.get("block_id") or "")
        asked = read_block_id(block)
        person = parts.person(context)
        trigger_id = str(body.get("trigger_id") or "")
        if asked is None or person is None or asked.owner != owner_tag(person) or not trigger_id:
            log.info("a Write privately click that was not the question owner's was ignored")
            return
        question = parts.conversations.current(person)
        if question is None or (question.flow_id, question.step_id) != (
            asked.flow_id,
            asked.step_id,
        ):
            return
        container = body.get("container") or {}
        metadata = json.dumps(
            {"b": block, "c": container.get("channel_id"), "t": container.get("message_ts")}
        )
        view = answer_view(question, metadata=metadata)
        parts.lanes.submit(
            person.id, lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)
        )

    @app.view(CALLBACK_ID)
    def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        view = body.get("view") or {}
        person = parts.person(context)
        try:
            where = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            where = {}
        asked = read_block_id(str(where.get("b") or ""))
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(INPUT_BLOCK) or {}).get(INPUT_ACTION) or {}).get("value") or "")
        if person is None or asked is None or asked.owner != owner_tag(person):
            ack()
            return
        replies: list[Reply] | None = None
        screened: Screened | None = None
        with parts.locks.hold(person), parts.store.writing():  # one commit, before the ack
            current = parts.conversations.current(person)
            if current is not None and (current.flow_id, current.step_id) == (
                asked.flow_id,
                asked.step_id,
            ):
                # Typed "skip" means skip, as in the DM; an empty optional box skips too.
                replies = parts.conversations.receive(person, text or "skip")
            else:
                # No longer an answer to anything, but still the person's words: screened.
                screened = parts.conversations.screen_input(person, text)
        if replies is None:
            _answer_stale_box(
                parts, ack, person, screened, owner=asked.owner, user_id=context.user_id
            )
            return
        ack()
        refused = any(
            isinstance(reply, Question) and reply.step_id == asked.step_id and reply.reason
            for reply in replies
        )
        channel, ts = where.get("c"), where.get("t")
        posts = compose(replies, owner=asked.owner)
        user_id = context.user_id or ""

        def deliver() -> None:
            target = channel or parts.delivery.dm_channel(user_id=user_id)
            if not target:
                return
            if ts and not refused:
                answered = copy.text("private.answered")
                message_blocks = _message_blocks(parts, channel=target, ts=str(ts))
                if message_blocks is not None:
                    blocks = with_answer(message_blocks, asked_block=str(where["b"]), note=answered)
                    parts.delivery.update(
                        channel=target,
                        ts=str(ts),
                        text=copy.text("fallback.message"),
                        blocks=blocks,
                    )
            if posts:
                parts.delivery.post(channel=target, posts=posts)

        parts.lanes.submit(person.id, deliver)
        if home.finished(replies) and user_id:
            if channel:
                cleanup.clear_questions_later(parts, person, channel=str(channel), replies=replies)
            home.publish_later(parts, person, user_id=user_id)


def _answer_stale_box(
    parts: Parts,
    ack: Ack,
    person: Person,
    screened: Screened | None,
    *,
    owner: str,
    user_id: str | None,
) -> None:
    """A box whose question was answered or left meanwhile: its words are not taken, and the
    box stays open to say so, unless the safety screen found something. Then what the screen
    calls for (the crisis card, the check-in question, the gentle card) goes to the DM, and
    the box closes if the card or question needs the person's attention first."""
    if screened is None or not screened.replies or not user_id:
        ack(response_action="errors", errors={INPUT_BLOCK: copy.text("private.stale")})
        return
    if screened.go_on:
        ack(response_action="errors", errors={INPUT_BLOCK: copy.text("private.stale")})
    else:
        ack()
    posts = compose(screened.replies, owner=owner)
    parts.lanes.submit(person.id, lambda: post_to_dm(parts, user_id=user_id, posts=posts))


def _message_blocks(parts: Parts, *, channel: str, ts: str) -> list[dict[str, Any]] | None:
    """The blocks of the bot's question message, as Slack has them now."""
    for message in parts.delivery.own_messages(channel=channel, most=200):
        if message.get("ts") == ts:
            return list(message.get("blocks") or [])
    return None
