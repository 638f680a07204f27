"""App Home: the tab is drawn when opened (bot.slack.views.home), and a past reflection's
summary opens in a modal on click."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.people import Person
from bot.engine.reflections import StoredReflection
from bot.slack.parts import Parts
from bot.slack.respond import Job, open_window_after_ack, respond
from bot.slack.views.home import FOLLOW_UP_ACTION, home_view, reflection_view
from bot.slack.views.notices import READ_AGREEMENT, agreement_view


def register(app: App, parts: Parts) -> None:
    @app.event("app_home_opened")
    def on_home_opened(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
        shown = event.get("tab", "home") == "home" and bool(context.user_id)
        respond(
            parts,
            ack=ack,
            context=context,
            guard=lambda _: shown,
            engine=lambda _: None,
            then=lambda person, _: refresh_home(parts, context, person),
            transaction=False,
        )

    @app.action(READ_AGREEMENT)
    def on_agreement(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        trigger_id = str(body.get("trigger_id") or "")
        open_window_after_ack(
            parts,
            ack=ack,
            context=context,
            trigger_id=trigger_id,
            window=lambda person: agreement_view(parts, person),
        )

    @app.action(FOLLOW_UP_ACTION)
    def on_follow_up(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        wanted = action.get("value")

        def switch(person: Person) -> None:
            parts.conversations.set_follow_up(person, wanted=wanted == "on")

        respond(
            parts,
            ack=ack,
            context=context,
            guard=lambda _: wanted in ("on", "off") and bool(context.user_id),
            engine=switch,
            then=lambda person, _: refresh_home(parts, context, person),
        )

    @app.action("read_reflection")
    def on_read(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        wanted, trigger_id = str(action.get("value")), str(body.get("trigger_id") or "")
        respond(
            parts,
            ack=ack,
            context=context,
            engine=lambda person: _find(parts, person, wanted),
            then=lambda _, found: _open_reflection(parts, found, trigger_id=trigger_id),
            transaction=False,
        )


def refresh_home(parts: Parts, context: BoltContext, person: Person) -> Job:
    """The lane job that draws the person's Home tab afresh."""

    def publish() -> None:  # their name, for the greeting, is looked up here: after the ack
        named = parts.named(context, person)
        parts.delivery.publish_home(user_id=context.user_id or "", view=home_view(parts, named))

    return publish


def _open_reflection(parts: Parts, found: StoredReflection | None, *, trigger_id: str) -> Job:
    """The lane job that shows a past reflection in a modal (if it is still there)."""
    if found is None or not trigger_id:
        return None
    view = reflection_view(found, title=_title(parts, found.flow_id))
    return lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)


def _find(parts: Parts, person: Person, wanted: str) -> StoredReflection | None:
    found = [r for r in parts.store.reflections(person, limit=None) if r.id == wanted]
    return found[0] if found else None


def _title(parts: Parts, flow_id: str) -> str:
    flow = parts.conversations.library.get(flow_id)
    return flow.title if flow else flow_id
