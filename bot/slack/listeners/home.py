"""App Home: a start button per flow, the supervisor directory ("Book a supervisor", always
there), the person's recent reflections (their own summary on click), follow-up from last
time (on or off), their weekly reminder settings, a plain statement of what is kept and who can
see it, the first-use agreement on a button, and every access the server's operator made to
their data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import Ack, App, BoltContext
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
from bot.engine.replies import FlowOffer, Reply, Summary
from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.blocks import start_buttons
from bot.slack.views.booking import supervisor_blocks
from bot.slack.views.fitting import HEADER_TEXT, MODAL_TITLE, VIEW_BLOCKS, shorten, within_view
from bot.slack.views.mrkdwn import escape, markdown, plain, sections
from bot.slack.views.notices import READ_AGREEMENT, agreement_view

RECENT = 10
FOLLOW_UP_ACTION = "follow_up_switch"

WeeklySection = Callable[[Person], list[Block]]


def weekly_section(person: Person) -> list[Block]:
    """The person's weekly reflection nudge settings. Filled in by the weekly nudges (bot/weekly),
    passed to `build_app(weekly=...)`; nothing by default."""
    return []


def home_view(parts: Parts, person: Person, *, weekly: WeeklySection | None = None) -> View:
    """The Home tab; the weekly section comes from `weekly`, else the app's (parts.weekly)."""
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
        "home.privacy", min_group=parts.settings.min_group_size, days=parts.settings.retention_days
    )
    agreement = ButtonElement(text=copy.text("agreement.read"), action_id=READ_AGREEMENT)
    bottom: list[Block] = [
        *_access_log(parts, person),
        DividerBlock(),
        HeaderBlock(text=plain(copy.text("home.privacy_heading"))),
        *sections(privacy_text, escaped=False),
        ActionsBlock(elements=[agreement]),
    ]
    middle = [*recent, *follow_up_section(parts, person), *(weekly or parts.weekly)(person)]
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
    supervisors = parts.conversations.suggestions.supervisors
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

    @app.action(READ_AGREEMENT)
    def on_agreement(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        person = parts.person(context)
        trigger_id = body.get("trigger_id")
        if person is None or not trigger_id:
            return
        view = agreement_view(parts)
        parts.lanes.submit(
            person.id, lambda: parts.delivery.open_view(trigger_id=trigger_id, view=view)
        )

    @app.action(FOLLOW_UP_ACTION)
    def on_follow_up(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
        person = parts.person(context)
        user_id = context.user_id
        if person is None or not user_id or action.get("value") not in ("on", "off"):
            ack()
            return
        with parts.locks.hold(person), parts.store.writing():
            parts.conversations.set_follow_up(person, wanted=action.get("value") == "on")
        ack()
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
