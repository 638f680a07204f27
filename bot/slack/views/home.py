"""App Home as Block Kit: a start button per flow, the supervisor directory ("Book a
supervisor", always there), the person's recent reflections (their own summary on click),
follow-up from last time (on or off), their weekly reminder settings, every access the
server's operator made to their data, a plain statement of what is kept and who can see it, and
the first-use agreement on a button. The listeners that show it are in
bot.slack.listeners.home."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import (
    ActionsBlock,
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
from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.views import copy, weekly_home
from bot.slack.views.blocks import start_buttons
from bot.slack.views.booking import supervisor_blocks
from bot.slack.views.fitting import HEADER_TEXT, VIEW_BLOCKS, shorten, within_view
from bot.slack.views.modals import modal
from bot.slack.views.mrkdwn import escape, markdown, plain, sections
from bot.slack.views.notices import READ_AGREEMENT
from bot.slack.views.organisation import admin_section

RECENT = 10
#: The Home tab's button that switches follow-up from last time on or off.
FOLLOW_UP_ACTION = "follow_up_switch"

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
        *booking_section(parts, person),
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.recent_heading"))),
    ]
    recent = _recent(parts.store.reflections(person, limit=RECENT), titles=titles)
    privacy_text = copy.text(
        "home.privacy", min_group=parts.settings.min_group_size, days=parts.retention_days(person)
    )
    agreement = ButtonElement(text=copy.text("agreement.read"), action_id=READ_AGREEMENT)
    bottom: list[Block] = [
        *admin_section(parts, person),
        *_access_log(parts, person),
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.privacy_heading"))),
        *sections(privacy_text, escaped=False),
        ActionsBlock(elements=[agreement]),
    ]
    weekly_blocks = (weekly or (lambda who: _weekly_blocks(parts, who)))(person)
    middle = [*recent, *follow_up_section(parts, person), *weekly_blocks]
    room = VIEW_BLOCKS - len(top) - len(bottom)
    return View(type="home", blocks=[*top, *within_view(middle, most=room), *bottom])


def _access_log(parts: Parts, person: Person) -> list[Block]:
    """What the server's operator did to this person's data (append-only, never erased)."""
    records = parts.store.access_records(person)
    if not records:
        return []
    lines = []
    for record in records[-20:]:
        what = _ACCESS_WORDS.get(record.action)
        lines.append(
            "• "
            + copy.text(
                "home.access_item",
                date=f"{record.day.day} {record.day:%b %Y}",
                what=copy.text(what)
                if what
                else copy.text("home.access_other", action=record.action),
                reason=record.reason,
            )
        )
    return [
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.access_heading"))),
        *sections("\n".join(lines)),
    ]


_ACCESS_WORDS = {"export": "home.access_export", "erase": "home.access_erase"}


def booking_section(parts: Parts, person: Person) -> list[Block]:
    """ "Book a supervisor": the directory, with the person's latest supervision agenda in
    any booking email. Always shown; says so plainly when nobody is listed."""
    supervisors = parts.conversations.supervisors_for(person)
    blocks: list[Block] = [HeaderBlock(text=plain(copy.text("home.booking_heading")))]
    if not supervisors:
        return [*blocks, *sections(copy.text("home.booking_none"))]
    agenda = parts.conversations.agenda(person)
    blocks += sections(copy.text("home.booking_intro"))
    return [*blocks, *supervisor_blocks(supervisors, agenda=agenda, owner=owner_tag(person))]


def follow_up_section(parts: Parts, person: Person) -> list[Block]:
    """Whether Reflect asks about the last next step, with a button to change it."""
    wanted = parts.store.follow_up_wanted(person)
    switch = ButtonElement(
        text=copy.text("home.follow_up_switch_off" if wanted else "home.follow_up_switch_on"),
        action_id=FOLLOW_UP_ACTION,
        value="off" if wanted else "on",
    )
    text = copy.text("home.follow_up_on" if wanted else "home.follow_up_off")
    return [
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.follow_up_heading"))),
        SectionBlock(text=markdown(escape(text)), accessory=switch),
    ]


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
    return modal(shown, title="home.reflection_title")
