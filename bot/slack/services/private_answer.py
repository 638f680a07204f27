"""Write privately: open the modal for the question now waiting, and take what is submitted in
it as the answer (the module that builds the text box screens what comes back in it).

What is submitted in a modal is not a message, so it is not part of the workspace's Slack
history. The submission goes through the engine exactly as typed text does (the safety screen
first, then the answer), and the question's message is updated to say it was answered
privately, without the words.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.models.blocks import ContextBlock, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.engine.replies import Question
from bot.engine.support import Screened
from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, handled, respond, say, user_of
from bot.slack.views import copy
from bot.slack.views.modals import modal
from bot.slack.views.mrkdwn import plain, sections
from bot.slack.views.questions import Asked, read_block_id, with_answer

log = logging.getLogger(__name__)

CALLBACK_ID = "private_answer"
INPUT_BLOCK = "answer"
INPUT_ACTION = "answer_text"
#: Slack's longest plain-text input.
MOST_CHARACTERS = 3000


def answer_view(question: Question, *, metadata: str) -> View:
    return modal(
        [
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
        title="private.title",
        submit="private.submit",
        close="private.close",
        callback_id=CALLBACK_ID,
        private_metadata=metadata,
    )


def where_of(view: dict[str, Any]) -> dict[str, Any]:
    """Where the question was (its block "b", channel "c" and message ts "t"), as the modal
    keeps it in its private metadata; {} if it cannot be read."""
    try:
        where = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return where if isinstance(where, dict) else {}


def written(view: dict[str, Any]) -> str:
    """The words in the box ("" when it was left empty)."""
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(INPUT_BLOCK) or {}).get(INPUT_ACTION) or {}).get("value") or "")


def stale() -> dict[str, Any]:
    """The submission's answer when the question has moved on: the box stays open to say so."""
    return {"response_action": "errors", "errors": {INPUT_BLOCK: copy.text("private.stale")}}


@dataclass(frozen=True)
class Stale:
    """A box whose question was answered or left meanwhile: its words are not taken as an
    answer, but what the safety screen found in them is said (in the DM)."""

    screened: Screened


def open_box(
    parts: Parts,
    *,
    ack: Ack,
    context: BoltContext,
    block_id: str,
    trigger_id: str,
    channel: str | None,
    ts: str | None,
) -> None:
    """A click on a question's "Write privately": the modal opens (after the ack) if the
    question is the clicker's own and still waiting for their answer."""
    asked = read_block_id(block_id)
    metadata = json.dumps({"b": block_id, "c": channel, "t": ts})

    def then(person: Person, question: Question | None) -> Job:
        if question is None:
            return None
        view = answer_view(question, metadata=metadata)
        return lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)

    respond(
        parts,
        ack=ack,
        context=context,
        guard=lambda person: _owns(person, asked) and bool(trigger_id),
        engine=lambda person: _waiting(parts, person, asked),
        then=then,
        transaction=False,
    )


def submit(
    parts: Parts, *, ack: Ack, context: BoltContext, where: dict[str, Any], text: str
) -> None:
    """The modal's words, taken as the answer to its question if it is still waiting (else
    only screened); the replies go where the question was."""
    asked = read_block_id(str(where.get("b") or ""))

    def engine(person: Person) -> Handled | Stale:
        if _waiting(parts, person, asked) is None:
            # No longer an answer to anything, but still the person's words: screened.
            return Stale(parts.conversations.screen_input(person, text))
        # Typed "skip" means skip, as in the DM; an empty optional box skips too.
        return handled(parts, person, lambda: parts.conversations.receive(person, text or "skip"))

    def then(person: Person, done: Handled | Stale) -> Job:
        if isinstance(done, Stale):
            replies = done.screened.replies
            return say(parts, person, replies, user_id=user_of(person)) if replies else None
        return _said(parts, person, done, where=where, asked=asked)

    respond(
        parts,
        ack=ack,
        context=context,
        guard=lambda person: _owns(person, asked),
        engine=engine,
        answer=_answer,
        then=then,
    )


def _answer(done: Handled | Stale) -> dict[str, Any]:
    """The box closes once its words are taken, or when the screen's card or question needs
    the person's attention first; otherwise it stays open to say the question has moved on."""
    if isinstance(done, Stale) and done.screened.go_on:
        return stale()
    return {}


def _owns(person: Person, asked: Asked | None) -> bool:
    if asked is None or asked.owner != owner_tag(person):
        log.info("a Write privately click that was not the question owner's was ignored")
        return False
    return True


def _waiting(parts: Parts, person: Person, asked: Asked | None) -> Question | None:
    """The question `asked`, if it is the one now waiting for the person's answer."""
    question = parts.conversations.current(person)
    if asked is None or question is None:
        return None
    if (question.flow_id, question.step_id) != (asked.flow_id, asked.step_id):
        return None
    return question


def _said(
    parts: Parts,
    person: Person,
    done: Handled | None,
    *,
    where: dict[str, Any],
    asked: Asked | None,
) -> Job:
    """Post the replies where the question was; its message says it was answered privately
    (never the words), unless the answer was refused."""
    if done is None or asked is None:
        return None
    refused = any(
        isinstance(reply, Question) and reply.step_id == asked.step_id and reply.reason
        for reply in done.replies
    )
    channel, ts, user_id = where.get("c"), where.get("t"), user_of(person)

    def mark() -> None:
        target = channel or parts.delivery.dm_channel(user_id=user_id or "")
        blocks = _message_blocks(parts, channel=target, ts=str(ts)) if target and ts else None
        if target and ts and blocks is not None and not refused:
            note = copy.text("private.answered")
            blocks = with_answer(blocks, asked_block=str(where["b"]), note=note)
            text = copy.text("fallback.message")
            parts.delivery.update(channel=target, ts=str(ts), text=text, blocks=blocks)

    return say(parts, person, done, channel=channel, user_id=user_id, before=mark)


def _message_blocks(parts: Parts, *, channel: str, ts: str) -> list[dict[str, Any]] | None:
    """The blocks of the bot's question message, as Slack has them now."""
    for message in parts.delivery.own_messages(channel=channel, most=200):
        if message.get("ts") == ts:
            return list(message.get("blocks") or [])
    return None
