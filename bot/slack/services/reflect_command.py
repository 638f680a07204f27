"""`/reflect`: start, pause, resume or stop a reflection, get help, export or forget, or the
weekly reminders' `/reflect weekly ...`.

The text after the command goes through the safety screen first, whatever it asks for
(`screened`). Whatever the command does to a reflection is stored before the ack; what it says
is posted in the person's DM with the bot afterwards, wherever the command was typed.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply, Say
from bot.slack.listeners import forget
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond, say
from bot.slack.services import weekly
from bot.slack.services.greeting import respond_in_dm
from bot.slack.views import copy, export


def screened(
    parts: Parts, *, ack: Ack, context: BoltContext, command: dict[str, Any], text: str
) -> bool:
    """The text after `/reflect` goes through the safety screen before anything else, whatever
    it asks for. A card is posted in the DM; True when the command then goes on as usual (no
    card, or the gentle one), False when it was answered here (a crisis card, a check-in)."""
    person = parts.person(context, greet=True)
    if person is None or not context.user_id:
        return True  # the command's own listener acks
    with parts.locks.hold(person), parts.store.writing():  # one commit, before the ack
        screening = parts.conversations.screen_input(person, text)
    if screening.replies:
        job = say(parts, person, screening.replies, user_id=context.user_id)
        parts.lanes.submit(person.id, job)
    if not screening.go_on:
        ack(**_where(parts, command))
    return screening.go_on


def run(
    parts: Parts, *, ack: Ack, context: BoltContext, command: dict[str, Any], text: str
) -> None:
    """Do what the (screened) command text asks."""
    word = text.lower()
    if word == "weekly" or word.startswith("weekly "):  # the weekly reminders: bot.weekly
        weekly.command(parts, ack=ack, context=context, command=command)
    elif word in ("forget", "export"):  # no engine work: a modal
        respond(
            parts,
            ack=ack,
            context=context,
            engine=lambda _: None,
            transaction=False,
            answer=lambda _: {},
            then=lambda person, _: _data(parts, person, word=word, command=command),
        )
    else:
        respond_in_dm(
            parts,
            ack=ack,
            context=context,
            engine=lambda person: subcommand(parts, person, text=text),
            answer=lambda: _where(parts, command),
        )


def _data(parts: Parts, person: Person, *, word: str, command: dict[str, Any]) -> Job:
    """`/reflect forget` opens the confirmation modal; `/reflect export` opens the reflections
    in a modal: never a message, so never in the Slack history."""
    trigger_id = str(command.get("trigger_id") or "")
    if word == "forget":
        return lambda: forget.open_modal(parts, trigger_id=trigger_id)
    return lambda: export.open_modal(parts, person, trigger_id=trigger_id)


def subcommand(parts: Parts, person: Person, *, text: str) -> list[Reply]:
    """What `/reflect TEXT` does to the person's reflection, as the engine's replies (the text
    has been through the safety screen: see `screened`)."""
    conversations = parts.conversations
    word = text.lower()
    if not word:
        return conversations.offer(person)
    if word in ("help", "?"):
        return [Say(copy.text("command.help"))]
    if word == "pause":
        return conversations.pause(person)
    if word in ("resume", "continue"):
        return conversations.resume(person)
    if word == "stop":
        return conversations.stop(person)
    flow = conversations.library.find(text)
    if flow is not None:
        return conversations.start(person, flow.id)
    return [
        Say(copy.text("command.unknown", text=text[:200])),
        Say(copy.text("command.help")),
        *conversations.offer(person),
    ]


def _where(parts: Parts, command: dict[str, Any]) -> dict[str, Any]:
    """The ack's text: typed outside the bot's DM, say (only to them) that the answer is there."""
    user_id = str(command.get("user_id") or "")
    in_dm = command.get("channel_id") == parts.delivery.known_dm(user_id=user_id)
    return {} if in_dm else {"text": copy.text("command.sent")}
