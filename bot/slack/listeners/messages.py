"""Direct messages to the bot: every one goes through the engine (safety screen first).

Every message a person writes is read, whatever its subtype (a file shared with a comment, a
reply in a thread of the DM...): bot.slack.listeners.events says which are theirs. The answer
is stored by the engine before the ack; the replies are posted after it, in order, on the
person's lane, in the thread where the person wrote, if they wrote in one.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.slack.listeners.events import (
    first_delivery,
    for_another_app,
    is_direct_message,
    readable,
)
from bot.slack.parts import Parts
from bot.slack.respond import Handled, Job, handled, respond, say


def register(app: App, parts: Parts) -> None:
    @app.event("message")
    def on_message(
        ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
    ) -> None:
        if not is_direct_message(event) or for_another_app(body, app_id=parts.app_id):
            ack()
            return

        def receive(person: Person) -> Handled | None:
            # The claim commits with the engine's writes, before the ack; a failure rolls the
            # claim back too, so there is no ack and Slack's redelivery is processed.
            if not first_delivery(parts, body):
                return None
            text = readable(event.get("text"))
            return handled(
                parts, person, lambda: parts.conversations.receive(person, text), typed=True
            )

        def then(person: Person, done: Handled | None) -> Job:
            if done is None:
                return None
            return say(parts, person, done, channel=channel, thread_ts=thread_ts)

        channel = str(event["channel"])
        thread_ts = str(event["thread_ts"]) if event.get("thread_ts") else None
        respond(parts, ack=ack, context=context, greet=True, engine=receive, then=then)
