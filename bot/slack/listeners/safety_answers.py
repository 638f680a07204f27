"""Clicks on the safety questions: the check-in's Yes / Not sure / No, and what to do after the
crisis card. A click counts only if it is the owner's. The engine's answer is stored before the
ack; then the buttons give way to the answer and the replies are posted, in the thread the
question was in, if any.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.identity import owner_tag
from bot.slack.listeners.actions import Click, clicked
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond
from bot.slack.views import copy
from bot.slack.views.safety_questions import AFTER_CRISIS, CHECK_IN, block_id

log = logging.getLogger(__name__)


def register(app: App, parts: Parts) -> None:
    def on_check_in(click: Click) -> None:
        _answer(parts, click, question=CHECK_IN)

    def on_after_crisis(click: Click) -> None:
        _answer(parts, click, question=AFTER_CRISIS)

    app.action(re.compile(rf"^{CHECK_IN}:(yes|not_sure|no)$"))(clicked(on_check_in))
    app.action(re.compile(rf"^{AFTER_CRISIS}:(carry_on|stop|numbers)$"))(clicked(on_after_crisis))


def _answer(parts: Parts, click: Click, *, question: str) -> None:
    action_id = str(click.action.get("action_id", ""))
    value = action_id.partition(":")[2]
    conversations = parts.conversations

    def owns(person: Person) -> bool:
        if click.action.get("block_id") != block_id(question, owner=owner_tag(person)):
            log.info("a click that was not the question owner's was ignored")
            return False
        return True

    def answered(person: Person) -> list[Reply]:
        if question == CHECK_IN:
            return conversations.check_in_answered(person, value)
        return conversations.after_crisis(person, value)

    def then(person: Person, replies: list[Reply]) -> Job:
        label = _label(click.body.get("message") or {}, action_id=action_id)
        note = copy.text("question.answered", answer=label)
        return click.answered(parts, person, replies, note=note)

    respond(
        parts,
        ack=click.ack,
        context=click.context,
        greet=True,
        guard=owns,
        engine=answered,
        then=then,
    )


def _label(message: dict[str, Any], *, action_id: str) -> str:
    """The clicked button's own words, as the message shows them."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str((element.get("text") or {}).get("text") or "")
    return action_id.partition(":")[2]
