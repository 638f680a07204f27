"""`/reflect`: start, pause, resume or stop a reflection, get help, export or forget.

Whatever the command does to a reflection is stored before the ack; what it says is posted in
the person's DM with the bot afterwards, wherever the command was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply, Say
from bot.slack.listeners import forget, weekly_actions
from bot.slack.listeners.events import readable
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond, say
from bot.slack.views import copy, export


@dataclass(frozen=True)
class Handled:
    """What `/reflect TEXT` did: the engine's replies, or other work for after the ack; and
    whether the ack says where the answer went (not for `forget`, which opens a modal)."""

    replies: list[Reply] = field(default_factory=list)
    job: Job = None
    where: bool = True


def register(app: App, parts: Parts) -> None:
    @app.command("/reflect")
    def on_reflect(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        text = " ".join(readable(command.get("text")).split())
        if text.lower() == "weekly" or text.lower().startswith("weekly "):  # bot.weekly
            weekly_actions.on_command(parts, ack=ack, context=context, command=command)
            return
        user_id = context.user_id or ""

        def then(person: Person, handled: Handled) -> Job:
            return handled.job or say(parts, person, handled.replies, user_id=user_id)

        respond(
            parts,
            ack=ack,
            context=context,
            greet=True,
            guard=lambda _: bool(user_id),
            engine=lambda person: handle(parts, person, text=text, command=command),
            answer=lambda handled: _where(parts, command, user_id) if handled.where else {},
            then=then,
        )


def handle(parts: Parts, person: Person, *, text: str, command: dict[str, Any]) -> Handled:
    word, user_id = text.lower(), str(command.get("user_id") or "")
    if word == "forget":
        trigger_id = str(command.get("trigger_id") or "")
        return Handled(job=lambda: forget.open_modal(parts, trigger_id=trigger_id), where=False)
    if word == "export":
        return Handled(job=lambda: export.send(parts, person, user_id=user_id))
    return Handled(replies=subcommand(parts, person, text=text, word=word))


def subcommand(parts: Parts, person: Person, *, text: str, word: str) -> list[Reply]:
    """What `/reflect TEXT` does to the person's reflection, as the engine's replies."""
    conversations = parts.conversations
    signpost = conversations.check_safety(person, text)  # screened before anything else
    if signpost is not None:
        return [signpost]
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


def _where(parts: Parts, command: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The ack's text: typed outside the bot's DM, say (only to them) that the answer is there."""
    in_dm = command.get("channel_id") == parts.delivery.known_dm(user_id=user_id)
    return {} if in_dm else {"text": copy.text("command.sent")}
