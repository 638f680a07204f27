"""Greeting a person by name without making Slack wait for the ack.

Before the ack a person carries only the name remembered from an earlier look-up
(`Parts.person`). The look-up itself (users.info) happens after the ack, on the person's
lane, ahead of their replies; if it finds a name (or time zone) the engine went without, the
greeting and the question waiting are said with it. Both are remembered in memory only,
never stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, handled, respond, say


def greeted(
    parts: Parts, *, context: BoltContext, person: Person, said: Handled
) -> tuple[Person, Handled]:
    """The person as looked up (after the ack), and the replies said to them by name (and in
    their time zone) where the engine made them without it: the greeting, a flow's first
    words and the question now waiting."""
    named = parts.named(context, person)
    if (named.first_name, named.timezone) == (person.first_name, person.timezone):
        return named, said
    conversations = parts.conversations
    with parts.locks.hold(person):  # the question waiting cannot move on meanwhile
        again: list[tuple[Reply | None, Reply | None]] = [
            (conversations.offer(person)[0], conversations.offer(named)[0]),
            (conversations.current(person), conversations.current(named)),
            *zip(conversations.opening(person), conversations.opening(named), strict=False),
        ]
    replies = tuple(
        next((new for old, new in again if new is not None and reply == old), reply)
        for reply in said.replies
    )
    return named, dataclasses.replace(said, replies=replies)


def say_greeted(
    parts: Parts,
    *,
    context: BoltContext,
    person: Person,
    said: Handled,
    channel: str | None = None,
    user_id: str | None = None,
    thread_ts: str | None = None,
    before: Job = None,
) -> Job:
    """The lane job that looks the person up, then posts the replies (bot.slack.respond.say)."""

    def job() -> None:
        named, replies = greeted(parts, context=context, person=person, said=said)
        where = {"channel": channel, "user_id": user_id, "thread_ts": thread_ts}
        say(parts, named, replies, **where, before=before)()

    return job


def respond_in_dm(
    parts: Parts,
    *,
    ack: Ack,
    context: BoltContext,
    engine: Callable[[Person], Sequence[Reply]],
    answer: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """The common case: the engine's replies posted in the person's DM (wherever they clicked
    or typed), greeting them by name; `answer` gives the ack's own content."""
    user_id = context.user_id or ""
    respond(
        parts,
        ack=ack,
        context=context,
        greet=True,
        guard=lambda _: bool(user_id),
        engine=lambda person: handled(parts, person, lambda: engine(person)),
        answer=(lambda _: answer()) if answer else None,
        then=lambda person, done: say_greeted(
            parts, context=context, person=person, said=done, user_id=user_id
        ),
    )
