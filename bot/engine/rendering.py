"""Rendering prompts, intros and summaries: Jinja2, sandboxed, strict about unknown names, and
bounded: no operator, filter or method may build a number or a text beyond a fixed size.

Jinja2's sandbox keeps templates away from Python's internals but lets them compute without
limit: `{{ (10 ** 3000000) % 7 }}` burns seconds of CPU, `{{ "x" * 10**9 }}` a gigabyte. Here
`**`, `*` and `%` are intercepted (which also stops Jinja2 from folding them at compile time),
every filter and method call is refused an integer argument larger than `MAX_TEXT` and a
result longer than it, `replace` is refused a result that would be, format specs are refused
huge widths, and `range` stops at `MAX_RANGE`. `reflect flows check` also renders every
template with sample answers under a time budget (bot.engine.authoring.template_checks).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
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


#: The longest text, and the largest integer argument, a template may produce or pass.
MAX_TEXT = 100_000
#: The most bits an integer a template computes may have (about 1,200 decimal digits).
MAX_BITS = 4_096
MAX_RANGE = 1_000
#: A width or precision in a format spec: at most three digits, and never `*`.
_HUGE_FORMAT = re.compile(
    r"%[-#0 +]*(?:\*|\d{4,})|%[-#0 +]*\d*\.(?:\*|\d{4,})|\{[^{}]*:[^{}]*\d{4,}"
)


class TooLarge(SecurityError):
    """A template tried to build something beyond the rendering limits."""


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with a ceiling on what a template can make the process compute or hold."""

    intercepted_binops = frozenset({"*", "**", "%", "//"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _checked_result(result)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_format(str(getattr(value, "__self__", "")))
        return wrapped


def _too_large(what: str) -> TooLarge:
    return TooLarge(f"{what} is beyond what a template may compute")


def _check_power(base: Any, exponent: Any) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0:
        return
    if abs(base) > 1 and abs(base).bit_length() * exponent > MAX_BITS:
        raise _too_large("a power")


def _check_product(left: Any, right: Any) -> None:
    for sized, times in ((left, right), (right, left)):
        repeated = isinstance(sized, str | list | tuple) and isinstance(times, int)
        if repeated and len(sized) * times > MAX_TEXT:
            raise _too_large("a repeated text or list")
    both = isinstance(left, int) and isinstance(right, int)
    if both and abs(left).bit_length() + abs(right).bit_length() > MAX_BITS:
        raise _too_large("a product")


def _check_format(spec: str) -> None:
    if _HUGE_FORMAT.search(spec):
        raise _too_large("a formatted width")


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEXT:
            raise _too_large("a number passed to a filter or method")


def _checked_result(result: Any) -> Any:
    if isinstance(result, str | list | tuple) and len(result) > MAX_TEXT:
        raise _too_large("a text")
    return result


def _bounded_filter(function: Any) -> Any:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args[1:], kwargs)
        return _checked_result(function(*args, **kwargs))

    for attribute in ("jinja_pass_arg",):  # keep what Jinja2 reads to pass the context
        if hasattr(function, attribute):
            setattr(bounded, attribute, getattr(function, attribute))
    return bounded


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if count is not None:
        times = min(times, count)
    if len(text) + times * (len(new) - len(old)) > MAX_TEXT:
        raise _too_large("a replaced text")
    return text.replace(old, new, -1 if count is None else count)


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _too_large("a range")
    return numbers


@cache
def environment() -> BoundedEnvironment:
    env = BoundedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["bullets"] = _bullets
    env.filters["listing"] = _listing
    for name, function in list(env.filters.items()):
        env.filters[name] = _bounded_filter(function)
    env.filters["replace"] = _bounded_filter(_replace)
    env.filters["format"] = _bounded_filter(_format)
    env.globals["range"] = _range
    return env


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    text = str(value)
    _check_format(text)
    if args and kwargs:
        raise TooLarge("format takes either positional or keyword arguments")
    return text % (kwargs or args)


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
def compiled(template: str) -> Template:
    """The template, compiled once per process."""
    return environment().from_string(template)


def render(template: str, context: dict[str, Any]) -> str:
    text = compiled(template).render(context)
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
