"""The safety questions in Slack: the check-in (Yes / Not sure / No) and, after the crisis card,
what to do next (I'm safe, carry on / Stop here / Show the numbers again).

Their buttons sit in a block whose id names the question and the owner's tag
(``check_in|<tag>``, ``after_crisis|<tag>``), so a click says whose it is. Typed answers work
too (the engine reads them from the DM).
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock

from bot.engine.replies import AfterCrisis, CheckIn, Choice
from bot.slack.views import copy
from bot.slack.views.fitting import BUTTON_TEXT, shorten
from bot.slack.views.mrkdwn import plain, sections

CHECK_IN = "check_in"
AFTER_CRISIS = "after_crisis"
#: The button a choice gets a highlight on (the answer that leads to support).
_PRIMARY = frozenset({"yes", "numbers"})


def block_id(question: str, *, owner: str) -> str:
    return f"{question}|{owner}"


def check_in_blocks(check_in: CheckIn, *, owner: str) -> list[Block]:
    blocks: list[Block] = []
    if check_in.reason:
        blocks += sections(check_in.reason)
    blocks += sections(check_in.text)
    blocks.append(_buttons(CHECK_IN, check_in.choices, owner=owner))
    blocks.append(ContextBlock(elements=[plain(copy.text("safety.check_in_hint"))]))
    return blocks


def after_crisis_blocks(offer: AfterCrisis, *, owner: str) -> list[Block]:
    reminder = sections(offer.reminder) if offer.reminder else []
    blocks: list[Block] = [*reminder, *sections(offer.reason or offer.text)]
    blocks.append(_buttons(AFTER_CRISIS, offer.choices, owner=owner))
    blocks.append(ContextBlock(elements=[plain(copy.text("safety.after_crisis_hint"))]))
    return blocks


def _buttons(question: str, choices: tuple[Choice, ...], *, owner: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=block_id(question, owner=owner),
        elements=[
            ButtonElement(
                text=shorten(choice.label, limit=BUTTON_TEXT),
                value=choice.value,
                action_id=f"{question}:{choice.value}",
                style="primary" if choice.value in _PRIMARY else None,
            )
            for choice in choices
        ],
    )
