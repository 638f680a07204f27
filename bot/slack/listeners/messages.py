"""Direct messages to the bot: every one goes through the engine (safety screen first).

The answer is stored by the engine before the ack; the replies are posted after it, in order,
on the person's lane.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.listeners.events import (
    first_delivery,
    for_another_app,
    is_direct_message,
    readable,
)
from bot.slack.parts import Parts
from bot.slack.respond import Job, respond, say


def register(app: App, parts: Parts) -> None:
    @app.event("message")
    def on_message(
        ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
    ) -> None:
        if not is_direct_message(event) or for_another_app(body, app_id=parts.app_id):
            ack()
            return

        def receive(person: Person) -> list[Reply] | None:
            # The claim commits with the engine's writes, before the ack; a failure rolls the
            # claim back too, so there is no ack and Slack's redelivery is processed.
            if not first_delivery(parts, body):
                return None
            return parts.conversations.receive(person, readable(event.get("text")))

        def then(person: Person, replies: list[Reply] | None) -> Job:
            return None if replies is None else say(parts, person, replies, channel=channel)

        channel = str(event["channel"])
        respond(parts, ack=ack, context=context, greet=True, engine=receive, then=then)
