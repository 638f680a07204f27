"""`/reflect forget`: confirm in a modal, then erase everything kept about the person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.slack.parts import Parts
from bot.slack.respond import respond
from bot.slack.views import copy
from bot.slack.views.modals import modal
from bot.slack.views.mrkdwn import sections

log = logging.getLogger(__name__)

CALLBACK_ID = "forget_confirm"


def confirm_view() -> View:
    return modal(
        sections(copy.text("forget.body")),
        title="forget.title",
        submit="forget.submit",
        close="forget.close",
        callback_id=CALLBACK_ID,
    )


def done_view(*, count: int) -> View:
    return modal(sections(copy.text("forget.done", count=count)), title="forget.done_title")


def open_modal(parts: Parts, *, trigger_id: str) -> None:
    parts.delivery.open_view(trigger_id=trigger_id, view=confirm_view())


def register(app: App, parts: Parts) -> None:
    @app.view(CALLBACK_ID)
    def on_confirm(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        respond(
            parts,
            ack=ack,
            context=context,
            engine=_forget,
            answer=lambda count: {"response_action": "update", "view": done_view(count=count)},
            transaction=False,  # erasure commits in steps of its own: the key first
        )

    def _forget(person: Person) -> int:
        count = parts.store.forget(person)
        log.info("a person's data was erased on request")
        return count
