"""A direct message to the bot: every one goes through the engine (safety screen first).

The answer is stored by the engine before the ack, with the event's claim (so a redelivery
is dropped, and a failure rolls the claim back for Slack to deliver again); the replies are
posted after it, in order, on the person's lane, in the thread where the person wrote, if
they wrote in one.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.engine.people import Person
from bot.slack.listeners.events import first_delivery, readable
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, handled, respond
from bot.slack.services.greeting import say_greeted


def receive(
    parts: Parts, *, ack: Ack, context: BoltContext, body: dict[str, Any], event: dict[str, Any]
) -> None:
    """Handle the person's message `event` (from the Events API `body`) once."""
    channel = str(event["channel"])
    thread_ts = str(event["thread_ts"]) if event.get("thread_ts") else None
    text = readable(event.get("text"))

    def engine(person: Person) -> Handled | None:
        if not first_delivery(parts, body):
            return None
        run = lambda: parts.conversations.receive(person, text)  # noqa: E731
        return handled(parts, person, run, typed=True)

    def then(person: Person, done: Handled | None) -> Job:
        if done is None:
            return None
        return say_greeted(
            parts, context=context, person=person, said=done, channel=channel, thread_ts=thread_ts
        )

    respond(parts, ack=ack, context=context, greet=True, engine=engine, then=then)
