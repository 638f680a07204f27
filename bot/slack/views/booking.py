"""The supervisor directory in Slack: what each supervisor or service is, and how to book.

Shown after a reflection (when the engine suggests supervision) and always on the Home tab.
A booking page opens in the browser; an email opens the leader's mail with their latest
supervision agenda filled in. Opening either is counted as opened, never as booked.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from slack_sdk.models.blocks import Block, ButtonElement, SectionBlock

from bot.engine import messages
from bot.engine.replies import Supervisor
from bot.slack.views import copy
from bot.slack.views.fitting import BUTTON_TEXT, SECTION_TEXT, shorten
from bot.slack.views.mrkdwn import escape, markdown

#: The longest mailto link, so that it fits in a section (3,000 characters) with the details
#: and mail programs take it whole; a longer agenda is shortened to fit.
MOST_LINK = 1800
OPEN_ACTION = "supervisor_open"


def supervisor_blocks(
    supervisors: Sequence[Supervisor], *, agenda: str | None, owner: str
) -> list[Block]:
    """A section per supervisor: who it is for, cost, format, eligibility, wait and
    confidentiality, with a button to its booking page or a link to email them. Each block
    names its owner, so that only the person it was shown to is counted as opening it.

    `agenda` (the leader's own words) goes into the email link only on the Home tab, never in a
    message: messages stay in the Slack history."""
    blocks: list[Block] = []
    for index, supervisor in enumerate(supervisors):
        lines = [f"*{escape(supervisor.name)}*"]
        where = ", ".join((*supervisor.sectors, *supervisor.nations))
        details = [
            ("for", f"{supervisor.for_whom} ({where})" if where else supervisor.for_whom),
            ("cost", supervisor.cost),
            ("format", supervisor.format),
            ("eligibility", supervisor.eligibility),
            ("wait", supervisor.wait),
            ("confidentiality", supervisor.confidentiality),
        ]
        lines += [
            f"{copy.text(f'booking.{key}')}: {escape(value)}" for key, value in details if value
        ]
        email_line = None
        if supervisor.email:
            label = copy.text("booking.email_with_agenda" if agenda else "booking.email")
            link = mailto(supervisor.email, agenda=agenda)
            email_line = f"<{link}|{escape(label.format(email=supervisor.email))}>"
        accessory = None
        if supervisor.booking_url:
            accessory = ButtonElement(
                text=shorten(copy.text("booking.open"), limit=BUTTON_TEXT),
                url=supervisor.booking_url,
                action_id=f"{OPEN_ACTION}:{index}",
                accessibility_label=shorten(
                    copy.text("booking.open_for", name=supervisor.name), limit=75
                ),
            )
        text = "\n".join(lines)
        blocks.append(
            SectionBlock(
                block_id=f"{OPEN_ACTION}|{owner}|{index}",
                text=markdown(shorten(text, limit=SECTION_TEXT)),
                accessory=accessory,
            )
        )
        if email_line:  # a section of its own, so the link is never cut short
            blocks.append(SectionBlock(text=markdown(email_line)))
    return blocks


def mailto(address: str, *, agenda: str | None) -> str:
    """A mailto link with the subject and, when there is one, the agenda filled in (shortened
    until the link fits MOST_LINK)."""
    subject = copy_engine("suggestion.email_subject")
    if not agenda:
        body = copy_engine("suggestion.email_body_no_agenda")
        return f"mailto:{address}?subject={quote(subject)}&body={quote(body)}"
    limit = len(agenda)
    while True:
        body = copy_engine("suggestion.email_body").replace(
            "{agenda}", shorten(agenda, limit=max(limit, 1))
        )
        link = f"mailto:{address}?subject={quote(subject)}&body={quote(body)}"
        if len(link) <= MOST_LINK or limit <= 1:
            return link
        limit = limit * 3 // 4


def copy_engine(key: str) -> str:
    return messages.text(key)
