"""Answers given by clicking: a button, a select, or ticked boxes and "Done".

A click counts only if it is the owner's and answers the question now waiting; the message is
then updated to show the answer without its controls. Anything else changes nothing.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App

from bot.engine.people import Person
from bot.engine.replies import AfterCrisis, CheckIn, Question, Reply
from bot.slack.identity import owner_tag
from bot.slack.listeners.actions import Click, clicked
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, handled, respond
from bot.slack.views import copy
from bot.slack.views.questions import Asked, answer_label, read_block_id

log = logging.getLogger(__name__)


def register(app: App, parts: Parts) -> None:
    def on_button(click: Click) -> None:
        answer(parts, click, value=click.action.get("value"))

    def on_select(click: Click) -> None:
        answer(parts, click, value=(click.action.get("selected_option") or {}).get("value"))

    @app.action("answer_pick")
    def on_pick(ack: Ack) -> None:
        ack()  # ticking a box answers nothing yet; "Done" does

    def on_done(click: Click) -> None:
        state = (click.body.get("state") or {}).get("values", {})
        picked = state.get(click.block_id, {}).get("answer_pick") or {}
        answer(parts, click, value=[o.get("value") for o in picked.get("selected_options") or []])

    app.action(re.compile(r"^answer:\d+$"))(clicked(on_button))
    app.action("answer_select")(clicked(on_select))
    app.action("answer_done")(clicked(on_done))


def answer(parts: Parts, click: Click, *, value: object) -> None:
    asked = read_block_id(click.block_id)

    def owns(person: Person) -> bool:
        if asked is None or asked.owner != owner_tag(person) or value is None:
            log.info("a click that was not the question owner's was ignored")
            return False
        return True

    def choose(person: Person) -> tuple[str | None, Handled]:
        assert asked is not None  # see `owns`
        notes: list[str | None] = []

        def run() -> list[Reply]:
            note, replies = _choose(parts, person, asked, value)
            notes.append(note)
            return replies

        done = handled(parts, person, run)
        return notes[0], done

    def then(person: Person, chosen: tuple[str | None, Handled]) -> Job:
        note, done = chosen
        return click.answered(parts, person, done, note=note)

    respond(parts, ack=click.ack, context=click.context, guard=owns, engine=choose, then=then)


def _choose(
    parts: Parts, person: Person, asked: Asked, value: object
) -> tuple[str | None, list[Reply]]:
    """The note to show in place of the controls (None: leave them), and the replies."""
    current = parts.conversations.current(person)
    if current is None or (current.flow_id, current.step_id) != (asked.flow_id, asked.step_id):
        return _already(parts, person, asked), []
    replies = parts.conversations.choose(
        person, flow_id=asked.flow_id, step_id=asked.step_id, value=value
    )
    refused = any(
        (isinstance(reply, Question) and reply.step_id == asked.step_id and reply.reason)
        or isinstance(reply, CheckIn | AfterCrisis)  # a safety question waits: not taken
        for reply in replies
    )
    if refused:
        return None, replies
    return copy.text("question.answered", answer=answer_label(current, value)), replies


def _already(parts: Parts, person: Person, asked: Asked) -> str:
    """For a click on an answered question: its answer, if still in the session."""
    session = parts.store.load_session(person)
    if session is None or session.flow_id != asked.flow_id or asked.step_id not in session.answers:
        return copy.text("question.skipped")
    flow = parts.conversations.library.get(asked.flow_id)
    step = flow.step(asked.step_id) if flow else None
    options = getattr(step, "options", None) or []
    labels = {option.value: option.label for option in options}
    given = session.answers[asked.step_id]
    values = given if isinstance(given, list) else [given]
    answer = ", ".join(labels.get(str(v), str(v)) for v in values)
    return copy.text("question.answered", answer=answer)
