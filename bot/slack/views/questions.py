"""A step, asked in Slack: the question, its buttons or select, and how a click is read back.

Every control sits in a block whose id names the step and the owner's tag
(``q|<tag>|<flow>|<step>``), so a click says which question it answers and whose it is.
After a click the controls are replaced by the answer, so nothing can be answered twice.
A free-text question offers "Write privately", which opens a modal
(bot.slack.listeners.private): what is submitted there is not a message, so it is not in the
workspace's Slack history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    Option,
    StaticMultiSelectElement,
    StaticSelectElement,
)

from bot.engine.replies import Question
from bot.slack.views import copy
from bot.slack.views.fitting import BUTTON_TEXT, OPTION_TEXT, shorten
from bot.slack.views.mrkdwn import plain, sections

PREFIX = "q"
MOST_BUTTONS = 5
MOST_SCALE_BUTTONS = 11
MOST_CHECKBOXES = 10


@dataclass(frozen=True)
class Asked:
    """What a control's block id says: whose question, which flow and step."""

    owner: str
    flow_id: str
    step_id: str


def block_id(question: Question, *, owner: str) -> str:
    return f"{PREFIX}|{owner}|{question.flow_id}|{question.step_id}"


def read_block_id(value: str) -> Asked | None:
    parts = value.split("|")
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    return Asked(owner=parts[1], flow_id=parts[2], step_id=parts[3])


def question_blocks(question: Question, *, owner: str) -> list[Block]:
    position = copy.text("question.position", title=question.flow_title, position=question.position)
    blocks: list[Block] = [ContextBlock(elements=[plain(shorten(position, limit=2000))])]
    if question.reason:
        blocks += sections(question.reason)
    blocks += sections(question.text)
    controls = _controls(question)
    if controls:
        blocks.append(ActionsBlock(block_id=block_id(question, owner=owner), elements=controls))
    scale = question.scale
    if scale is not None and not any(scale.points):  # no words on the buttons: say the ends
        labels = f"{scale.min} = {scale.min_label} · {scale.max} = {scale.max_label}"
        blocks.append(ContextBlock(elements=[plain(labels)]))
    blocks.append(ContextBlock(elements=[plain(_hint(question))]))
    return blocks


def _hint(question: Question) -> str:
    hint = copy.text(
        "question.hint_choice" if question.choices or question.scale else "question.hint_text"
    )
    return f"{hint} {copy.text('question.hint_optional')}" if question.optional else hint


def _options(question: Question) -> list[tuple[str, str]]:
    if question.scale is not None:
        scale = question.scale
        return [(str(n), _point(question, n)) for n in range(scale.min, scale.max + 1)]
    return [(choice.value, choice.label) for choice in question.choices]


#: The action of the "Write privately" button under a free-text question.
WRITE_PRIVATELY = "write_privately"


def _point(question: Question, value: int) -> str:
    """A scale button's words: its number and, where the flow gives one, its word."""
    assert question.scale is not None
    word = question.scale.word(value)
    if word is None:
        return str(value)
    return copy.text("question.scale_point", value=value, word=word)


def _spoken(question: Question, value: str) -> str:
    """What a screen reader says for a scale button: "4 of 5: heavy"."""
    assert question.scale is not None
    word = question.scale.word(int(value))
    key = "question.scale_spoken" if word else "question.scale_spoken_plain"
    return copy.text(key, value=value, max=question.scale.max, word=word or "")


def _controls(question: Question) -> list[Any]:
    options = _options(question)
    if question.step_kind == "text":
        return [
            ButtonElement(text=copy.text("question.write_privately"), action_id=WRITE_PRIVATELY)
        ]
    if not options:
        return []
    if question.step_kind == "multi":
        return _multi(options)
    most = MOST_SCALE_BUTTONS if question.scale is not None else MOST_BUTTONS
    if len(options) <= most:
        return [
            ButtonElement(
                text=shorten(label, limit=BUTTON_TEXT),
                value=value,
                action_id=f"answer:{index}",
                accessibility_label=(
                    shorten(_spoken(question, value), limit=75) if question.scale else None
                ),
            )
            for index, (value, label) in enumerate(options)
        ]
    return [
        StaticSelectElement(
            placeholder=copy.text("question.select"),
            action_id="answer_select",
            options=_option_objects(options),
        )
    ]


def _multi(options: list[tuple[str, str]]) -> list[Any]:
    picker: Any
    if len(options) <= MOST_CHECKBOXES:
        picker = CheckboxesElement(action_id="answer_pick", options=_option_objects(options))
    else:
        picker = StaticMultiSelectElement(
            placeholder=copy.text("question.pick"),
            action_id="answer_pick",
            options=_option_objects(options),
        )
    done = ButtonElement(text=copy.text("question.done"), action_id="answer_done", style="primary")
    return [picker, done]


def _option_objects(options: list[tuple[str, str]]) -> list[Option]:
    return [
        Option(value=value, text=plain(shorten(label, limit=OPTION_TEXT)))
        for value, label in options
    ]


def answer_label(question: Question | None, value: object) -> str:
    """How an answer given by a click reads, in the words of its options."""
    labels = {choice.value: choice.label for choice in question.choices} if question else {}
    if question is not None and question.scale is not None:
        labels = {v: label for v, label in _options(question)}
    values = value if isinstance(value, list) else [value]
    return ", ".join(labels.get(str(v), str(v)) for v in values)


def with_answer(
    blocks: Sequence[dict[str, Any]], *, asked_block: str, note: str
) -> list[dict[str, Any]]:
    """The message's blocks (as Slack sent them) with the question's controls replaced by
    `note`, the answer."""
    answered = ContextBlock(block_id=asked_block, elements=[plain(shorten(note, limit=2000))])
    return [
        answered.to_dict() if raw.get("block_id") == asked_block else dict(raw) for raw in blocks
    ]
