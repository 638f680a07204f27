"""Buttons outside a question: starting a flow, and answering the supervisor suggestion."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, respond, say
from bot.slack.services.greeting import respond_in_dm
from bot.slack.views import copy
from bot.slack.views.blocks import NOT_NOW_ACTION, SUGGESTION_BLOCK
from bot.slack.views.booking import OPEN_ACTION
from bot.slack.views.questions import with_answer


def register(app: App, parts: Parts) -> None:
    @app.action(re.compile(r"^start:"))
    def on_start(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        flow_id = str(action.get("value") or "")

        def start(person: Person) -> list[Reply]:
            return parts.conversations.start(person, flow_id)

        respond_in_dm(parts, ack=ack, context=context, engine=start)

    @app.action(re.compile(rf"^{OPEN_ACTION}:\d+$"))
    def on_open(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        # The booking page opens in the browser; that is all we know (not that they booked).
        # Counted only for the person it was shown to (the block names them); the store keeps
        # one a day, and the aggregates count people, not clicks.
        def opened(person: Person) -> None:
            parts.conversations.suggestion_answered(person, opened=True)

        block_id = str(action.get("block_id") or "")
        respond(
            parts,
            ack=ack,
            context=context,
            guard=lambda person: block_id.startswith(f"{OPEN_ACTION}|{owner_tag(person)}|"),
            engine=opened,
        )

    @app.action(NOT_NOW_ACTION)
    def on_not_now(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        block_id = str(action.get("block_id") or "")
        note = copy.text("booking.declined")
        respond(
            parts,
            ack=ack,
            context=context,
            guard=lambda person: block_id == f"{SUGGESTION_BLOCK}|{owner_tag(person)}",
            engine=lambda person: parts.conversations.suggestion_answered(person, opened=False),
            then=lambda *_: lambda: replace_controls(parts, body, block_id=block_id, note=note),
        )


def replace_controls(parts: Parts, body: dict[str, Any], *, block_id: str, note: str) -> None:
    """Show `note` in place of a message's buttons (so they cannot be clicked twice). The
    notification text says nothing of what the message held."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not (channel and ts):
        return
    blocks = with_answer(message.get("blocks") or [], asked_block=block_id, note=note)
    text = copy.text("fallback.message")
    parts.delivery.update(channel=channel, ts=ts, text=text, blocks=blocks)


def clicked(handle: Callable[[Click], None]) -> Callable[..., None]:
    """The Bolt listener for a click on a question's button, select or "Done": it hands a
    `Click` to `handle`, and goes by its name (tests/slack/test_input_surfaces.py lists them)."""

    def listener(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        handle(Click(ack, body, action, context))

    listener.__name__ = listener.__qualname__ = handle.__name__
    listener.__module__ = handle.__module__
    return listener


@dataclasses.dataclass(frozen=True)
class Click:
    """What Bolt hands a listener for a click on a question's button, select or "Done"."""

    ack: Ack
    body: dict[str, Any]
    action: dict[str, Any]
    context: BoltContext

    @property
    def block_id(self) -> str:
        return str(self.action.get("block_id") or "")

    def answered(
        self, parts: Parts, person: Person, said: Handled | list[Reply], *, note: str | None
    ) -> Job:
        """The lane job that posts the replies in the channel (and thread, if any) of the
        question, once its controls have given way to `note` (None: they stay)."""
        shown = (
            (lambda: replace_controls(parts, self.body, block_id=self.block_id, note=note))
            if note
            else None
        )
        channel = (self.body.get("container") or {}).get("channel_id")
        thread_ts = (self.body.get("message") or {}).get("thread_ts")
        return say(parts, person, said, channel=channel, thread_ts=thread_ts, before=shown)
