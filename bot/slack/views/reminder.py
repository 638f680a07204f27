"""The weekly reminder as a Slack message, built with slack_sdk's block models.

The first reminder a person gets from a team is the consent message: who switched it on, that the
answers are private to them, "Not for me" and "Remind me later". Every reminder offers the weekly
check-in with one button and the other flows in a menu.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.engine.replies import Choice
from bot.store.weekly.ledger import LedgerEntry
from bot.weekly import copy

WEEKLY_FLOW = "weekly-checkin"

#: action_ids the reminder's controls carry (handled in bot.slack.listeners.weekly_actions).
START = "weekly_start"
CHOOSE = "weekly_choose"
NOT_FOR_ME = "weekly_not_for_me"
LATER = "weekly_later"


#: A flow the reminder offers: its id (the choice's value) and title (its label).
FlowChoice = Choice


@dataclass(frozen=True)
class ReminderMessage:
    text: str
    blocks: list[dict[str, Any]]


#: Stands for the ledger row id in a message built once and reused for a whole team.
_ROW = "@row@"


def compose(
    entry: LedgerEntry,
    *,
    flows: Sequence[FlowChoice],
    lead_user: str | None,
    when: str,
    weekly_flow: str = WEEKLY_FLOW,
) -> ReminderMessage:
    """The reminder for a ledger row. `lead_user` (the unsealed id of who switched it on) is only
    needed for the consent message."""
    if entry.kind == "reminder":
        body = copy.text("reminder.asked_for")
    elif entry.consent and lead_user:
        body = copy.text("reminder.consent", lead=lead_user, channel=entry.channel, when=when)
    else:
        body = copy.text("reminder.weekly")
    template = _message(body, entry.kind, tuple(flows), weekly_flow)
    return ReminderMessage(text=template.text, blocks=_with_row(template.blocks, entry.id))


def _with_row(value: Any, row: str) -> Any:
    if isinstance(value, str):
        return value.replace(_ROW, row)
    if isinstance(value, list):
        return [_with_row(item, row) for item in value]
    if isinstance(value, dict):
        return {key: _with_row(item, row) for key, item in value.items()}
    return value


@lru_cache(maxsize=256)
def _message(
    body: str, kind: str, flows: tuple[FlowChoice, ...], weekly_flow: str
) -> ReminderMessage:
    """Built with slack_sdk's models (which check Block Kit's limits) once per kind of reminder."""
    main = next((flow for flow in flows if flow.value == weekly_flow), None) or (
        flows[0] if flows else None
    )
    blocks: list[Block] = [SectionBlock(text=body[:3000])]
    elements: list[Any] = []
    if main is not None:
        elements.append(
            ButtonElement(
                text=copy.text("reminder.start") if main.value == weekly_flow else main.label[:75],
                action_id=START,
                value=f"{_ROW}:{main.value}",
                style="primary",
            )
        )
    others = [flow for flow in flows if main is None or flow.value != main.value][:100]
    if others:
        elements.append(
            StaticSelectElement(
                placeholder=copy.text("reminder.other_flows"),
                action_id=CHOOSE,
                options=[
                    Option(text=flow.label[:75], value=f"{_ROW}:{flow.value}") for flow in others
                ],
            )
        )
    if kind == "weekly":
        elements.append(
            ButtonElement(text=copy.text("reminder.later"), action_id=LATER, value=_ROW)
        )
    elements.append(
        ButtonElement(text=copy.text("reminder.not_for_me"), action_id=NOT_FOR_ME, value=_ROW)
    )
    blocks.append(ActionsBlock(block_id="weekly_nudge", elements=elements))
    return ReminderMessage(
        text=copy.text("reminder.fallback"), blocks=[block.to_dict() for block in blocks]
    )
