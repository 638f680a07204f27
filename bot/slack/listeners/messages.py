"""Direct messages to the bot: every one goes through the engine (safety screen first).

Every message a person writes is read, whatever its subtype (a file shared with a comment, a
reply in a thread of the DM...): bot.slack.listeners.events says which are theirs; the work
is bot.slack.services.direct_message's.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.listeners.events import for_another_app, is_direct_message
from bot.slack.parts import Parts
from bot.slack.services import direct_message


def register(app: App, parts: Parts) -> None:
    @app.event("message")
    def on_message(
        ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
    ) -> None:
        if not is_direct_message(event) or for_another_app(body, app_id=parts.app_id):
            ack()
            return
        direct_message.receive(parts, ack=ack, context=context, body=body, event=event)
