"""`/reflect`: start, pause, resume or stop a reflection, get help, export or forget.

Whatever the command does to a reflection is stored before the ack; what it says is posted in
the person's DM with the bot afterwards, wherever the command was typed.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply, Say
from bot.slack.identity import owner_tag
from bot.slack.listeners import forget, weekly_actions
from bot.slack.listeners.events import readable
from bot.slack.parts import Parts
from bot.slack.views import copy, export
from bot.slack.views.blocks import compose


def register(app: App, parts: Parts) -> None:
    @app.command("/reflect")
    def on_reflect(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        person = parts.person(context, greet=True)
        user_id = context.user_id
        if person is None or not user_id:
            ack()
            return
        text = " ".join(readable(command.get("text")).split())
        word = text.lower()
        if word == "forget":
            ack()
            trigger_id = str(command.get("trigger_id") or "")
            parts.lanes.submit(person.id, lambda: forget.open_modal(parts, trigger_id=trigger_id))
            return
        if word == "export":
            _ack_elsewhere(ack, parts, command, user_id)
            parts.lanes.submit(person.id, lambda: export.send(parts, person, user_id=user_id))
            return
        if word == "weekly" or word.startswith("weekly "):  # team reminders: bot.weekly
            weekly_actions.on_command(parts, ack=ack, context=context, text=text)
            return
        with parts.locks.hold(person), parts.store.writing():  # one commit, before the ack
            replies = subcommand(parts, person, text=text, word=word)
        _ack_elsewhere(ack, parts, command, user_id)
        posts = compose(replies, owner=owner_tag(person))
        parts.lanes.submit(
            person.id, lambda: parts.delivery.post_to_dm(user_id=user_id, posts=posts)
        )


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


def _ack_elsewhere(ack: Ack, parts: Parts, command: dict[str, Any], user_id: str) -> None:
    """Ack; typed outside the bot's DM, say (only to them) that the answer is in the DM."""
    in_dm = command.get("channel_id") == parts.delivery.known_dm(user_id=user_id)
    if in_dm:
        ack()
    else:
        ack(text=copy.text("command.sent"))
