"""App Home: a start button per flow, the person's recent reflections (their own summary on
click), their nudge settings, and a plain statement of what is kept and who can see it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.engine.reflections import StoredReflection
from bot.engine.replies import FlowOffer, Reply, Summary
from bot.slack.parts import Parts
from bot.slack.views import copy, weekly_home
from bot.slack.views.blocks import start_buttons
from bot.slack.views.fitting import HEADER_TEXT, MODAL_TITLE, VIEW_BLOCKS, shorten, within_view
from bot.slack.views.mrkdwn import escape, markdown, plain, sections

RECENT = 10

WeeklySection = Callable[[Person], list[Block]]


def home_view(parts: Parts, person: Person, *, weekly: WeeklySection | None = None) -> View:
    """The Home tab; the weekly section comes from `weekly`, else the weekly reminders'."""
    titles = {flow.id: flow.title for flow in parts.conversations.library}
    offer = parts.conversations.offer(person)[0]
    assert isinstance(offer, FlowOffer)
    top: list[Block] = [
        HeaderBlock(text=plain(copy.text("home.title"))),
        *sections(copy.text("home.intro")),
        HeaderBlock(text=plain(copy.text("home.start_heading"))),
        *start_buttons(offer.flows),
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.recent_heading"))),
    ]
    recent = _recent(parts.store.reflections(person, limit=RECENT), titles=titles)
    privacy_text = copy.text(
        "home.privacy", min_group=parts.settings.min_group_size, days=parts.settings.retention_days
    )
    bottom: list[Block] = [
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.privacy_heading"))),
        *sections(privacy_text, escaped=False),
    ]
    middle = [*recent, *(weekly or (lambda who: _weekly_blocks(parts, who)))(person)]
    room = VIEW_BLOCKS - len(top) - len(bottom)
    return View(type="home", blocks=[*top, *within_view(middle, most=room), *bottom])


def _weekly_blocks(parts: Parts, person: Person) -> list[Block]:
    return weekly_home.blocks(parts.weekly.home(person)) if parts.weekly else []


def _recent(reflections: list[StoredReflection], *, titles: dict[str, str]) -> list[Block]:
    if not reflections:
        return [ContextBlock(elements=[plain(copy.text("home.recent_none"))])]
    blocks: list[Block] = []
    for reflection in reflections:
        line = copy.text(
            "home.recent_item",
            date=reflection.finished_at.date().isoformat(),
            title=escape(titles.get(reflection.flow_id, reflection.flow_id)),
        )
        read = ButtonElement(
            text=copy.text("home.read"), action_id="read_reflection", value=reflection.id
        )
        blocks.append(SectionBlock(text=markdown(line), accessory=read))
    return blocks


def reflection_view(reflection: StoredReflection, *, title: str) -> View:
    heading = f"{title}, {reflection.finished_at.date().isoformat()}"
    blocks: list[Block] = [HeaderBlock(text=plain(shorten(heading, limit=HEADER_TEXT)))]
    blocks += sections(reflection.summary)
    shown = within_view(blocks)
    if len(shown) < len(blocks):  # too long for a view: say where the rest is
        shown = [*shown[:-1], ContextBlock(elements=[plain(copy.text("home.cut"))])]
    return View(
        type="modal",
        title=plain(shorten(copy.text("home.reflection_title"), limit=MODAL_TITLE)),
        close=plain(copy.text("home.close")),
        blocks=shown,
    )


def publish_later(parts: Parts, person: Person, *, user_id: str) -> None:
    """Refresh the person's Home tab on their lane (e.g. after a reflection is finished)."""

    def publish() -> None:
        parts.delivery.publish_home(user_id=user_id, view=home_view(parts, person))

    parts.lanes.submit(person.id, publish)


def finished(replies: Sequence[Reply]) -> bool:
    """Whether these replies end a reflection (so the Home tab's list has changed)."""
    return any(isinstance(reply, Summary) for reply in replies)


def register(app: App, parts: Parts) -> None:
    @app.event("app_home_opened")
    def on_home_opened(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
        ack()
        person = parts.person(context, greet=True)
        user_id = context.user_id
        if person is None or not user_id or event.get("tab", "home") != "home":
            return
        publish_later(parts, person, user_id=user_id)

    @app.action("read_reflection")
    def on_read(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        person = parts.person(context)
        trigger_id = body.get("trigger_id")
        if person is None or not trigger_id:
            return
        wanted = action.get("value")
        found = [r for r in parts.store.reflections(person, limit=None) if r.id == wanted]
        if not found:
            return
        titles = {flow.id: flow.title for flow in parts.conversations.library}
        view = reflection_view(found[0], title=titles.get(found[0].flow_id, found[0].flow_id))
        parts.lanes.submit(
            person.id, lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)
        )
