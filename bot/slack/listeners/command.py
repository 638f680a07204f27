"""`/reflect`: start, pause, resume or stop a reflection, get help, export or forget.

The text after the command goes through the safety screen first, whatever it asks for. Whatever
the command does to a reflection is stored before the ack; what it says is posted in the
person's DM with the bot afterwards, wherever the command was typed.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply, Say
from bot.slack.delivery import cleanup
from bot.slack.identity import owner_tag
from bot.slack.listeners import forget
from bot.slack.listeners.events import readable
from bot.slack.parts import Parts
from bot.slack.views import copy, export, notices
from bot.slack.views.blocks import Post, compose
from bot.weekly import commands as weekly


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
        elsewhere = word in ("forget", "export") or word == "weekly" or word.startswith("weekly ")
        with parts.locks.hold(person), parts.store.writing():  # one commit, before the ack
            screened = parts.conversations.screen_input(person, text)  # before anything else
            replies = screened.replies
            first: list[Post] = []
            before = parts.store.load_session(person)
            if screened.go_on and not elsewhere:
                replies = [*replies, *subcommand(parts, person, text=text, word=word)]
                if not screened.replies:  # a card, if any, is said first and alone
                    first = notices.first_posts(parts, person)
            ended = before is not None and parts.store.load_session(person) is None
        if not (screened.go_on and elsewhere):
            # The command's replies; or the crisis card or check-in question and nothing else.
            _ack_elsewhere(ack, parts, command, user_id)
            _post_later(parts, person, user_id=user_id, replies=replies, first=first)
            if ended and before is not None:  # stopped: its questions go
                cleanup.clear_questions_later(
                    parts, person, user_id=user_id, replies=replies, stopped=before.flow_id
                )
            return
        if replies:  # the gentle card, then the command as usual
            _post_later(parts, person, user_id=user_id, replies=replies, first=[])
        if word == "forget":
            ack()
            trigger_id = str(command.get("trigger_id") or "")
            parts.lanes.submit(person.id, lambda: forget.open_modal(parts, trigger_id=trigger_id))
            return
        if word == "export":  # in a modal: never a message, so never in the Slack history
            ack()
            trigger_id = str(command.get("trigger_id") or "")
            parts.lanes.submit(
                person.id, lambda: export.open_modal(parts, person, trigger_id=trigger_id)
            )
            return
        weekly.on_command(parts, ack=ack, context=context, text=text)  # weekly reminders


def _post_later(
    parts: Parts, person: Person, *, user_id: str, replies: list[Reply], first: list[Post]
) -> None:
    posts = first + compose(replies, owner=owner_tag(person))
    parts.lanes.submit(person.id, lambda: post_to_dm(parts, user_id=user_id, posts=posts))


def subcommand(parts: Parts, person: Person, *, text: str, word: str) -> list[Reply]:
    """What `/reflect TEXT` does to the person's reflection, as the engine's replies (the text
    has been through the safety screen: see `on_reflect`)."""
    conversations = parts.conversations
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


def post_to_dm(parts: Parts, *, user_id: str, posts: list[Post]) -> None:
    channel = parts.delivery.dm_channel(user_id=user_id)
    if channel:
        parts.delivery.post(channel=channel, posts=posts)


def _ack_elsewhere(ack: Ack, parts: Parts, command: dict[str, Any], user_id: str) -> None:
    """Ack; typed outside the bot's DM, say (only to them) that the answer is in the DM."""
    in_dm = command.get("channel_id") == parts.delivery.known_dm(user_id=user_id)
    if in_dm:
        ack()
    else:
        ack(text=copy.text("command.sent"))
