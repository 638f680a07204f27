"""The Home tab's admin section: its buttons open windows, and what is submitted in them is
screened, checked and kept (bot.slack.services.organisation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack.parts import Parts
from bot.slack.services import organisation
from bot.slack.views.organisation import EDIT_CHOICES, EDIT_SIGNPOSTS, EDIT_SUPERVISORS, RESET


def register(app: App, parts: Parts) -> None:
    def opening(action_id: str) -> Callable[..., None]:
        def on_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
            trigger_id = str(body.get("trigger_id") or "")
            organisation.open_window(
                parts, ack=ack, context=context, action_id=action_id, trigger_id=trigger_id
            )

        return on_click

    def saving(callback_id: str) -> Callable[..., None]:
        def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
            values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
            organisation.save(
                parts, ack=ack, context=context, callback_id=callback_id, values=values
            )

        return on_submit

    for action_id in (EDIT_SIGNPOSTS, EDIT_SUPERVISORS, EDIT_CHOICES):
        app.action(action_id)(opening(action_id))
        app.view(action_id)(saving(action_id))

    @app.action(RESET)
    def on_reset(ack: Ack, context: BoltContext) -> None:
        organisation.reset(parts, ack=ack, context=context)
