"""Turn what a leader typed (or clicked) into an answer for a step, or say why not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.engine import messages
from bot.engine.flows import (
    ChoiceStep,
    FollowUpStep,
    MultiChoiceStep,
    Option,
    ScaleStep,
    Step,
    TextStep,
)


@dataclass(frozen=True)
class Accepted:
    value: Any


@dataclass(frozen=True)
class Refusal:
    reason: str


def interpret(step: Step, given: Any, *, typed: bool = True) -> Accepted | Refusal:
    """`given` is typed text, or (typed=False) a value from a button or select."""
    if isinstance(step, TextStep):
        return _text(step, given)
    if isinstance(step, ScaleStep):
        return _scale(step, given)
    if isinstance(step, ChoiceStep | FollowUpStep):
        return _choice(step, given)
    if isinstance(step, MultiChoiceStep):
        return _multi(step, given, typed=typed)
    return Accepted(None)


def _text(step: TextStep, given: Any) -> Accepted | Refusal:
    value = str(given).strip()
    if not value:
        return Refusal(messages.text("reask.empty"))
    if len(value) > step.max_length:
        return Refusal(messages.text("reask.too_long", limit=step.max_length))
    return Accepted(value)


def _scale(step: ScaleStep, given: Any) -> Accepted | Refusal:
    value = str(given).strip().lower()
    if not value:
        return Refusal(messages.text("reask.empty"))
    if value == step.labels.min.lower():
        return Accepted(step.min)
    if value == step.labels.max.lower():
        return Accepted(step.max)
    for number in range(step.min, step.max + 1):
        word = step.word(number)
        if word is not None and value == word.lower():
            return Accepted(number)
    if re.fullmatch(r"[+-]?\d+", value):
        number = int(value)
        if step.min <= number <= step.max:
            return Accepted(number)
    return Refusal(
        messages.text(
            "reask.scale",
            min=step.min,
            max=step.max,
            min_label=step.labels.min,
            max_label=step.labels.max,
        )
    )


def _find(options: list[Option], token: str) -> Option | None:
    token = token.strip().strip(".").lower()
    if not token:
        return None
    if token.isdigit():
        number = int(token)
        return options[number - 1] if 1 <= number <= len(options) else None
    for option in options:
        if token in (option.value.lower(), option.label.lower()):
            return option
    starts = [o for o in options if o.label.lower().startswith(token)]
    return starts[0] if len(starts) == 1 else None


def _choice(step: ChoiceStep | FollowUpStep, given: Any) -> Accepted | Refusal:
    option = _find(step.options, str(given))
    if option is None:
        return Refusal(messages.text("reask.choice", count=len(step.options)))
    return Accepted(option.value)


def _multi(step: MultiChoiceStep, given: Any, *, typed: bool) -> Accepted | Refusal:
    if typed or isinstance(given, str):
        tokens = [t for t in re.split(r"[,;\n]+|\s+and\s+|\s+(?=\d)", str(given)) if t.strip()]
    else:
        tokens = [str(t) for t in given]
    chosen: list[str] = []
    for token in tokens:
        option = _find(step.options, token)
        if option is None:
            return Refusal(messages.text("reask.multi", count=len(step.options)))
        if option.value not in chosen:
            chosen.append(option.value)
    if not chosen:
        return Refusal(messages.text("reask.multi", count=len(step.options)))
    if step.max_choices is not None and len(chosen) > step.max_choices:
        return Refusal(messages.text("reask.multi_too_many", limit=step.max_choices))
    order = [o.value for o in step.options]
    return Accepted(sorted(chosen, key=order.index))
