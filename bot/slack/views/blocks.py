"""The engine's replies as Slack messages, built from slack_sdk's block models.

`compose` turns one turn's replies into posts: a crisis or gentle card always goes first, on its
own, and everything else (the closing card included, which ends a reflection) is packed into as
few messages as Block Kit's limits allow.

Reflection text never lands in the DM: a finished reflection is announced with a button that
opens it in a modal (and it is on the Home tab), and a message's notification text (what a
phone shows on its lock screen) never carries anything a prompt or reply might quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
)

from bot.engine.replies import (
    AfterCrisis,
    CheckIn,
    Choice,
    FlowOffer,
    Question,
    Reply,
    Say,
    Signpost,
    Summary,
    SupervisorSuggestion,
)
from bot.slack.views import copy
from bot.slack.views.booking import supervisor_blocks
from bot.slack.views.fitting import BUTTON_TEXT, FALLBACK_TEXT, HEADER_TEXT, pack, shorten
from bot.slack.views.mrkdwn import escape, plain, sections
from bot.slack.views.questions import question_blocks
from bot.slack.views.safety_questions import after_crisis_blocks, check_in_blocks

MOST_BUTTONS_IN_A_ROW = 25


@dataclass(frozen=True)
class Post:
    """One chat message: the notification text and the blocks."""

    text: str
    blocks: tuple[Block, ...]


def compose(replies: Sequence[Reply], *, owner: str) -> list[Post]:
    """Posts for one turn, in order, each within Block Kit's limits."""
    first = [r for r in replies if isinstance(r, Signpost) and not r.closing]
    rest = [r for r in replies if not (isinstance(r, Signpost) and not r.closing)]
    posts = [post for signpost in first for post in _posts([signpost], owner=owner)]
    return posts + _posts(rest, owner=owner)


def _posts(replies: Sequence[Reply], *, owner: str) -> list[Post]:
    if not replies:
        return []
    blocks = [block for reply in replies for block in render(reply, owner=owner)]
    fallback = shorten(notification(replies), limit=FALLBACK_TEXT)
    return [Post(text=fallback, blocks=tuple(run)) for run in pack(blocks)]


def notification(replies: Sequence[Reply]) -> str:
    """The notification text for these replies: which question, or what kind of message,
    never their words (a prompt can quote an earlier answer)."""
    for reply in replies:
        if isinstance(reply, Signpost):
            return copy.text("signpost.heading")
    for reply in reversed(replies):
        if isinstance(reply, Question):
            return copy.text("fallback.question", title=reply.flow_title, position=reply.position)
        if isinstance(reply, Summary):
            return copy.text("fallback.saved")
        if isinstance(reply, SupervisorSuggestion):
            return copy.text("fallback.nudge")
    return copy.text("fallback.message")


def render(reply: Reply, *, owner: str) -> list[Block]:
    """The blocks for one reply."""
    if isinstance(reply, Question):
        return question_blocks(reply, owner=owner)
    if isinstance(reply, FlowOffer):
        return offer_blocks(reply)
    if isinstance(reply, SupervisorSuggestion):
        return suggestion_blocks(reply, owner=owner)
    if isinstance(reply, Summary):
        return summary_blocks(reply)
    if isinstance(reply, Signpost):
        return signpost_blocks(reply)
    if isinstance(reply, CheckIn):
        return check_in_blocks(reply, owner=owner)
    if isinstance(reply, AfterCrisis):
        return after_crisis_blocks(reply, owner=owner)
    assert isinstance(reply, Say)
    return list(sections(reply.text))


def summary_blocks(summary: Summary) -> list[Block]:
    """A finished reflection, announced without its words: they open in a modal."""
    heading = copy.text("summary.heading", title=summary.flow_title)
    blocks: list[Block] = [
        HeaderBlock(text=plain(shorten(heading, limit=HEADER_TEXT))),
        *sections(copy.text("summary.saved")),
    ]
    if summary.reflection_id:
        read = ButtonElement(
            text=copy.text("summary.read"),
            action_id="read_reflection",
            value=summary.reflection_id,
            style="primary",
        )
        blocks.append(ActionsBlock(elements=[read]))
    return blocks


def offer_blocks(offer: FlowOffer) -> list[Block]:
    return [*sections(offer.text), *start_buttons(offer.flows)]


def start_buttons(flows: Sequence[Choice]) -> list[Block]:
    """A start button per flow, the first (the suggested one) highlighted."""
    buttons = [
        ButtonElement(
            text=shorten(choice.label, limit=BUTTON_TEXT),
            value=choice.value,
            action_id=f"start:{choice.value}",
            style="primary" if index == 0 else None,
        )
        for index, choice in enumerate(flows)
    ]
    return [
        ActionsBlock(elements=buttons[i : i + MOST_BUTTONS_IN_A_ROW])
        for i in range(0, len(buttons), MOST_BUTTONS_IN_A_ROW)
    ]


#: The "Not now" button of a supervisor suggestion, and its block (which names the owner).
NOT_NOW_ACTION = "suggestion_not_now"
SUGGESTION_BLOCK = "suggestion"


def suggestion_blocks(suggestion: SupervisorSuggestion, *, owner: str) -> list[Block]:
    blocks: list[Block] = list(sections(suggestion.text))
    blocks += supervisor_blocks(suggestion.supervisors, agenda=None, owner=owner)
    not_now = ButtonElement(text=copy.text("booking.not_now"), action_id=NOT_NOW_ACTION)
    blocks.append(ActionsBlock(block_id=f"{SUGGESTION_BLOCK}|{owner}", elements=[not_now]))
    return blocks


def signpost_blocks(signpost: Signpost) -> list[Block]:
    key = "signpost.closing_heading" if signpost.closing else "signpost.heading"
    heading = HeaderBlock(text=plain(copy.text(key)))
    lines = []
    for resource in signpost.resources:
        when = f" _{escape(resource.when)}_" if resource.when else ""
        lines.append(f"• *{escape(resource.name)}*: {escape(resource.how)}.{when}")
    help_text = "\n".join(lines)
    blocks: list[Block] = [heading, *sections(signpost.text)]
    if help_text:
        blocks += sections(help_text, escaped=False)
    return blocks


def note(text: str) -> ContextBlock:
    return ContextBlock(elements=[plain(shorten(text, limit=2000))])
