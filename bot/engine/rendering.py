"""Rendering prompts, intros and summaries: Jinja2, sandboxed, strict about unknown names."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.engine.flows import ChoiceStep, Flow, MultiChoiceStep
from bot.engine.people import Person

#: Names every template may use besides the step ids.
CONTEXT_NAMES = frozenset({"first_name", "flow_title", "part_of_day"})


@cache
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["bullets"] = _bullets
    env.filters["listing"] = _listing
    return env


def _bullets(values: Any) -> str:
    if not values:
        return ""
    if isinstance(values, str):
        values = [values]
    return "\n".join(f"• {value}" for value in values)


def _listing(values: Any) -> str:
    if not values:
        return ""
    if isinstance(values, str):
        return values
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@cache
def _compiled(template: str) -> Template:
    return environment().from_string(template)


def render(template: str, context: dict[str, Any]) -> str:
    text = _compiled(template).render(context)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def part_of_day(now: dt.datetime) -> str:
    hour = now.hour
    if hour < 12:
        return "morning"
    if hour < 18:
        return "afternoon"
    return "evening"


def prompt_context(
    flow: Flow, answers: dict[str, Any], person: Person | None, now: dt.datetime
) -> dict[str, Any]:
    """What templates see: every step id (None until answered; option labels for choices),
    the leader's first name if known, the flow title and the part of the day."""
    context: dict[str, Any] = {step.id: None for step in flow.steps}
    for step in flow.steps:
        if step.id not in answers or answers[step.id] is None:
            continue
        value = answers[step.id]
        if isinstance(step, ChoiceStep):
            labels = {o.value: o.label for o in step.options}
            value = labels.get(value, value)
        elif isinstance(step, MultiChoiceStep):
            labels = {o.value: o.label for o in step.options}
            value = [labels.get(v, v) for v in value]
        context[step.id] = value
    context["first_name"] = person.first_name if person else None
    context["flow_title"] = flow.title
    context["part_of_day"] = part_of_day(person.local(now) if person else now)
    return context
