"""App Home as Block Kit: a start button per flow, the person's recent reflections (their own
summary on click), their weekly reminder settings, and a plain statement of what is kept and who
can see it. The listeners that show it are in bot.slack.listeners.home."""

from __future__ import annotations

from collections.abc import Callable

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
from bot.engine.replies import FlowOffer
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
