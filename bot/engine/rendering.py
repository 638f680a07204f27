"""Rendering prompts, intros and summaries: Jinja2, sandboxed, strict about unknown names."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.engine import messages
from bot.engine.flows import ChoiceStep, Flow, FollowUpStep, MultiChoiceStep, ScaleStep
from bot.engine.people import Person

#: Names every template may use besides the step ids:
#: - first_name, flow_title;
#: - words for the leader's time of day (their own time zone): part_of_day ("morning",
#:   "afternoon", "evening"), this_time ("this morning" .. "tonight"), before_rest ("before you
#:   rest" in the morning after a night shift, "tonight" in the evening) and next_day ("your
#:   next shift", "tomorrow"), so that no flow says "tonight" at 8 am;
#: - what Reflect recalls from earlier reflections (bot.engine.sessions.Session.recall):
#:   last_next_step (the leader's own words, or None), last_next_step_when ("on Monday") and
#:   since_last_supervision (lines about the reflections since they last prepared for
#:   supervision; empty when there are none).
CONTEXT_NAMES = frozenset(
    {
        "first_name",
        "flow_title",
        "part_of_day",
        "this_time",
        "before_rest",
        "next_day",
        "last_next_step",
        "last_next_step_when",
        "since_last_supervision",
    }
)


class Rating(int):
    """A scale answer as templates see it: a number in conditions (`weight >= 4`), and in
    text the number, its scale and its word: "4 of 5 (heavy)"."""

    word: str | None
    top: int

    def __new__(cls, value: int, *, top: int, word: str | None) -> Rating:
        rating = super().__new__(cls, value)
        rating.top = top
        rating.word = word
        return rating

    def __str__(self) -> str:
        key = "rating.with_word" if self.word else "rating.plain"
        return messages.text(key, value=int(self), max=self.top, word=self.word or "")


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


def period(now: dt.datetime) -> str:
    """The part of the day as the time-of-day words are keyed: night (22:00 to 04:59),
    morning, afternoon or evening."""
    hour = now.hour
    if hour >= 22 or hour < 5:
        return "night"
    return part_of_day(now)


def time_words(now: dt.datetime) -> dict[str, str]:
    """this_time, before_rest and next_day for `now` (the leader's local time)."""
    key = period(now)
    return {name: messages.text(f"time_of_day.{name}.{key}") for name in _TIME_NAMES}


_TIME_NAMES = ("this_time", "before_rest", "next_day")


def prompt_context(
    flow: Flow,
    answers: dict[str, Any],
    person: Person | None,
    now: dt.datetime,
    recall: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What templates see: every step id (None until answered; option labels for choices,
    a Rating for scales), the leader's first name if known, the flow title, words for the time
    of day, and what is recalled from earlier reflections (see CONTEXT_NAMES)."""
    context: dict[str, Any] = {step.id: None for step in flow.steps}
    for step in flow.steps:
        if step.id not in answers or answers[step.id] is None:
            continue
        value = answers[step.id]
        if isinstance(step, ChoiceStep | FollowUpStep):
            labels = {o.value: o.label for o in step.options}
            value = labels.get(value, value)
        elif isinstance(step, MultiChoiceStep):
            labels = {o.value: o.label for o in step.options}
            value = [labels.get(v, v) for v in value]
        elif isinstance(step, ScaleStep) and isinstance(value, int):
            value = Rating(value, top=step.max, word=step.word(value))
        context[step.id] = value
    local = person.local(now) if person else now
    context["first_name"] = person.first_name if person else None
    context["flow_title"] = flow.title
    context["part_of_day"] = part_of_day(local)
    context.update(time_words(local))
    recalled = recall or {}
    next_step = recalled.get("next_step") or {}
    context["last_next_step"] = next_step.get("text")
    context["last_next_step_when"] = next_step.get("when")
    context["since_last_supervision"] = list(recalled.get("since_last_supervision") or [])
    return context
