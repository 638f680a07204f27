"""Write privately: a free-text question's button opens a modal to write the answer in, and
its submission is the answer (bot.slack.services.private_answer)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.parts import Parts
from bot.slack.services import private_answer
from bot.slack.services.private_answer import CALLBACK_ID, where_of, written
from bot.slack.views.questions import WRITE_PRIVATELY


def register(app: App, parts: Parts) -> None:
    @app.action(WRITE_PRIVATELY)
    def on_write(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        container = body.get("container") or {}
        private_answer.open_box(
            parts,
            ack=ack,
            context=context,
            block_id=str(action.get("block_id") or ""),
            trigger_id=str(body.get("trigger_id") or ""),
            channel=container.get("channel_id"),
            ts=container.get("message_ts"),
        )

    @app.view(CALLBACK_ID)
    def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        view = body.get("view") or {}
        private_answer.submit(
            parts, ack=ack, context=context, where=where_of(view), text=written(view)
        )
