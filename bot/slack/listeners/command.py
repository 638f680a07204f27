"""`/reflect`: the text after the command is screened first, whatever it asks for; then it is
done (bot.slack.services.reflect_command)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.listeners.events import readable
from bot.slack.parts import Parts
from bot.slack.services import reflect_command


def register(app: App, parts: Parts) -> None:
    @app.command("/reflect")
    def on_reflect(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        text = " ".join(readable(command.get("text")).split())
        if not reflect_command.screened(
            parts, ack=ack, context=context, command=command, text=text
        ):
            return  # the crisis card or the check-in question, and nothing else
        reflect_command.run(parts, ack=ack, context=context, command=command, text=text)
