"""Checking a flow's templates (intro, prompts, help, summary) before any leader sees them.

A template must compile in the sandboxed environment of bot.engine.rendering and name only
what it will have: the small context (first name, flow title, part of day) and the answers
given before it is shown. The summary is kept, so it may not quote an answer whose step says
`store: never`. Templates see a choice's label, not its value, so comparing with a value never
holds.

Then every template is rendered, as a leader would meet it, with sample answers: short ones,
the longest a leader may type, and with the optional answers and the first name left out. A
template that fails on any of them, takes longer than `RENDER_SECONDS` or writes more than
its sample answers can explain (`_size_budget`) is refused, with its line: it would fail or
stall for real leaders on every start.
"""

from __future__ import annotations

import datetime as dt
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from bot.engine.authoring.flow_document import (
    Finding,
    Where,
    did_you_mean,
    info_steps,
    options_by_step,
    positions,
    step_id,
    steps_of,
)
from bot.engine.rendering import CONTEXT_NAMES, TooLarge, compiled, environment, time_words

#: How long one rendering of one template may take.
RENDER_SECONDS = 0.5
#: The longest answer a leader may type into a text step (Slack's limit for a message).
LONGEST_ANSWER = 40_000


@dataclass(frozen=True)
class _Template:
    """What a template uses: names (with the template line each first appears on), and the
    text literals it compares a name with, as (name, literal, line)."""

    names: dict[str, int]
    compared: list[tuple[str, str, int]]


def _read_template(source: str, where: Where, label: str) -> tuple[_Template, list[Finding]]:
    env = environment()
    try:
        tree = env.parse(source)
        compiled(source)  # its own parse (compiling folds constants in the tree it is given),
        # kept: rendering the samples below, and the flow's leaders later, use it
    except TemplateSyntaxError as error:
        problem = Finding(
            where,
            f"the {label} template does not compile: {error.message}",
            template_line=error.lineno,
        )
        return _Template({}, []), [problem]
    undeclared = meta.find_undeclared_variables(tree) - set(env.globals)
    lines: dict[str, int] = {}
    for name_node in tree.find_all(nodes.Name):
        if name_node.name in undeclared:
            lines.setdefault(name_node.name, name_node.lineno)
    compared: list[tuple[str, str, int]] = []
    for compare in tree.find_all(nodes.Compare):
        operands = [compare.expr, *(operand.expr for operand in compare.ops)]
        for left, right in itertools.pairwise(operands):
            for name, other in ((left, right), (right, left)):
                if isinstance(name, nodes.Name):
                    compared += [(name.name, text, compare.lineno) for text in _texts(other)]
    names = {name: lines.get(name, 1) for name in sorted(undeclared)}
    return _Template(names, compared), []


def _texts(node: nodes.Node) -> list[str]:
    if isinstance(node, nodes.Const):
        values = node.value if isinstance(node.value, list | tuple) else [node.value]
        return [value for value in values if isinstance(value, str)]
    if isinstance(node, nodes.List | nodes.Tuple):
        return [text for item in node.items for text in _texts(item)]
    return []


def _compared_in_template(
    template: _Template, where: Where, label: str, options: dict[str, dict[str, str]]
) -> list[Finding]:
    """Templates see a choice's label, not its value: `{% if need == "talk" %}` never holds."""
    found: list[Finding] = []
    for name, text, line in template.compared:
        if name not in options or text in options[name].values():
            continue
        labels = ", ".join(repr(label) for label in options[name].values())
        if text in options[name]:
            message = (
                f"the {label} compares '{name}' with {text!r}, an option value; templates see "
                f"the option's label, so compare with {options[name][text]!r}"
            )
        else:
            message = (
                f"the {label} compares '{name}' with {text!r}, which is not one of its "
                f"option labels ({labels})"
            )
        found.append(Finding(where, message, template_line=line))
    return found


def check_templates(document: dict[str, Any]) -> list[Finding]:
    """Every problem in the intro, the prompts and help texts, and the summary; when they all
    read well, every problem in rendering them with sample answers."""
    found = _read_templates(document)
    return found or check_rendering(document)


def _read_templates(document: dict[str, Any]) -> list[Finding]:
    steps = steps_of(document)
    order = positions(steps)
    found: list[Finding] = []
    infos = info_steps(steps)
    options = options_by_step(steps)
    context = ", ".join(sorted(CONTEXT_NAMES))

    def unknown(name: str) -> str:
        return (
            f"uses '{name}', which is not a step or one of {context}"
            f"{did_you_mean(name, [*order, *CONTEXT_NAMES])}"
        )

    intro = document.get("intro")
    if isinstance(intro, str):
        template, problems = _read_template(intro, ("intro",), "intro")
        found += problems
        for name, line in template.names.items():
            if name in CONTEXT_NAMES:
                continue
            message = (
                f"the intro uses '{name}', but the intro is shown before any answer; "
                f"it can only use {context}"
                if name in order
                else f"the intro {unknown(name)}"
            )
            found.append(Finding(("intro",), message, template_line=line))

    for position, step in steps:
        for key in ("prompt", "help"):
            source = step.get(key)
            if not isinstance(source, str):
                continue
            where: Where = ("steps", position, key)
            template, problems = _read_template(source, where, key)
            found += problems + _compared_in_template(template, where, key, options)
            for name, line in template.names.items():
                if name in CONTEXT_NAMES:
                    continue
                if name not in order:
                    message = f"the {key} {unknown(name)}"
                elif order[name] >= position:
                    message = (
                        f"the {key} uses '{name}', which is "
                        + ("this step" if order[name] == position else "asked later")
                        + f"; a {key} can only use answers to earlier steps"
                    )
                elif name in infos:
                    message = f"the {key} uses '{name}', an info step, which has no answer"
                else:
                    continue
                found.append(Finding(where, message, template_line=line))

    summary = document.get("summary")
    if isinstance(summary, str):
        template, problems = _read_template(summary, ("summary",), "summary")
        found += problems + _compared_in_template(template, ("summary",), "summary", options)
        never = {
            step_id(step)
            for _, step in steps
            if step.get("store") in ("never", False) and step.get("kind") != "info"
        }
        for name, line in template.names.items():
            if name in CONTEXT_NAMES:
                continue
            if name not in order:
                message = f"the summary {unknown(name)}"
            elif name in never:
                message = (
                    f"the summary quotes '{name}', whose answer is never kept (store: never); "
                    "summaries are kept, so quoting it would keep it. Leave it out of the "
                    "summary, or use store: summary-only"
                )
            elif name in infos:
                message = f"the summary uses '{name}', an info step, which has no answer"
            else:
                continue
            found.append(Finding(("summary",), message, template_line=line))
    return found


# ------------------------------------------------------------------------------ rendering


class _OverTime(Exception):
    pass


@dataclass(frozen=True)
class _Sample:
    name: str
    answers: dict[str, Any]
    first_name: str | None


def _answer(step: dict[str, Any], *, longest: bool) -> Any:
    kind = step.get("kind")
    labels = [
        str(option.get("label"))
        for option in step.get("options") or []
        if isinstance(option, dict) and option.get("label") is not None
    ]
    if kind == "info":
        return None
    if kind == "choice":
        return labels[-1 if longest else 0] if labels else "An option"
    if kind == "multi":
        return labels if longest else labels[:1]
    if kind == "scale":
        low, high = step.get("min", 1), step.get("max", 5)
        return high if longest else low
    if not longest:
        return "A sample answer, with a comma, an apostrophe's and a 2."
    size = step.get("max_length", LONGEST_ANSWER)
    size = size if isinstance(size, int) and 0 < size <= LONGEST_ANSWER else LONGEST_ANSWER
    return ("a long answer " * (size // 14 + 1))[:size]


def _samples(steps: list[tuple[int, dict[str, Any]]]) -> list[_Sample]:
    short = {str(step_id(step)): _answer(step, longest=False) for _, step in steps}
    longest = {str(step_id(step)): _answer(step, longest=True) for _, step in steps}
    sparse = {
        str(step_id(step)): None if step.get("optional") is True else _answer(step, longest=False)
        for _, step in steps
    }
    return [
        _Sample("short sample answers", short, "Sam"),
        _Sample("the longest answers a leader may give", longest, "Alexandria-Josephine"),
        _Sample("the optional answers left out and no first name", sparse, None),
    ]


def _templates(document: dict[str, Any]) -> Iterator[tuple[Where, str, str, int | None]]:
    """(where, label, source, position of the step it belongs to: None for the summary,
    -1 for the intro)."""
    if isinstance(document.get("intro"), str):
        yield ("intro",), "intro", document["intro"], -1
    for position, step in steps_of(document):
        for key in ("prompt", "help"):
            if isinstance(step.get(key), str):
                yield ("steps", position, key), key, step[key], position
    if isinstance(document.get("summary"), str):
        yield ("summary",), "summary", document["summary"], None


def check_rendering(document: dict[str, Any]) -> list[Finding]:
    """Each template rendered with each sample: every failure, slow or outsized rendering."""
    steps = steps_of(document)
    title = document.get("title") if isinstance(document.get("title"), str) else "A flow"
    found: list[Finding] = []
    for where, label, source, position in _templates(document):
        try:
            template = compiled(source)
        except TemplateSyntaxError:
            continue  # reported by the reading checks
        for sample in _samples(steps):
            context: dict[str, Any] = {
                str(step_id(step)): (
                    sample.answers.get(str(step_id(step)))
                    if position is None or (position >= 0 and index < position)
                    else None
                )
                for index, step in steps
            }
            context |= _recalled(sample)
            context |= {"first_name": sample.first_name, "flow_title": title}
            context["part_of_day"] = "evening"
            context |= time_words(SAMPLE_EVENING)
            problem = _render_problem(template.render, context, source, sample)
            if problem is not None:
                message, line = problem
                found.append(Finding(where, f"the {label} {message}", template_line=line))
                break
    return found


#: The time of day the samples are rendered at (words such as "tonight" depend on it).
SAMPLE_EVENING = dt.datetime(2026, 1, 5, 19, 0, tzinfo=dt.UTC)


def _recalled(sample: _Sample) -> dict[str, Any]:
    """What the engine may recall from earlier reflections: given, except with the sparse
    sample (a leader with nothing to follow up)."""
    if sample.first_name is None:
        return {"last_next_step": None, "last_next_step_when": None, "since_last_supervision": []}
    step = sample.answers and next(iter(sample.answers.values()))
    text = step if isinstance(step, str) else "A sample next step"
    return {
        "last_next_step": text,
        "last_next_step_when": "on Monday",
        "since_last_supervision": [f"5 Jan: After a hard day: {text}"],
    }


def _size_budget(source: str, context: dict[str, Any]) -> int:
    """What a template may write: itself, each answer a few times over, and some room."""
    answers = sum(len(str(value)) for value in context.values() if value is not None)
    return 4 * (len(source) + answers) + 10_000


def _render_problem(
    render: Callable[[dict[str, Any]], str],
    context: dict[str, Any],
    source: str,
    sample: _Sample,
) -> tuple[str, int | None] | None:
    began = time.perf_counter()
    try:
        with _time_limit(RENDER_SECONDS):
            text = render(context)
    except _OverTime as error:
        return (
            f"takes more than {RENDER_SECONDS:g} s to render (with {sample.name})",
            _template_line(error),
        )
    except TooLarge as error:
        return (f"cannot be rendered: {error} (with {sample.name})", _template_line(error))
    except Exception as error:
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        return (
            f"fails when rendered with {sample.name}: {detail}",
            _template_line(error),
        )
    took = time.perf_counter() - began
    if took > RENDER_SECONDS:
        return (f"takes {took:.1f} s to render (with {sample.name})", None)
    budget = _size_budget(source, context)
    if len(text) > budget:
        return (
            f"renders {len(text):,} characters with {sample.name}, more than the "
            f"{budget:,} its answers explain",
            None,
        )
    return None


def _template_line(error: BaseException) -> int | None:
    """The template line the error was raised on (Jinja2 puts template frames in the
    traceback under the name <template>)."""
    line = getattr(error, "lineno", None)
    traceback: TracebackType | None = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line if isinstance(line, int) else None


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (on the main thread, where a timer signal can be
    used); elsewhere the caller measures afterwards."""
    usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if not usable:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _OverTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
