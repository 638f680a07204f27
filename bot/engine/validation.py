"""What is wrong with a flow, in words its author can act on.

`check(document)` takes a flow as read from YAML (plain mappings and lists) and returns the
`Flow` if it is sound, and every problem found otherwise, not only the first. The models in
`bot.engine.flows` catch the shape (unknown keys, missing fields, wrong types, see
`bot.engine.schema_errors`); the rules here catch what a schema cannot: steps that point nowhere
or cannot be reached, conditions and templates that name answers that do not exist yet, answers
a summary may not quote, options a leader could not choose.

Each problem says where it is as a path into the document, such as
`("steps", 2, "next", 0, "then")`, so the loader can point at the file and line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from pydantic import ValidationError

from bot.engine import conditions, messages
from bot.engine.flows import END, Flow
from bot.engine.rendering import CONTEXT_NAMES, environment
from bot.engine.schema_errors import Where, explain

#: Words a step id cannot be: they mean something else in a condition or a template.
RESERVED_NAMES = frozenset(
    {*conditions.KEYWORDS, "is", "if", "else", "elif", "for", "loop", "self", "super", "caller"}
)

#: Command words a leader types during a flow; an option spelled the same could not be chosen
#: by typing it.
_COMMAND_WORDS = ("skip", "back", "pause", "stop", "help")


@dataclass(frozen=True)
class Finding:
    """One problem: where it is in the flow document and what to do about it.

    `template_line` is set for a problem inside a template: its line within that template.
    """

    where: Where
    message: str
    template_line: int | None = None


def check(document: dict[str, Any]) -> tuple[Flow | None, list[Finding]]:
    """The flow, if `document` is a sound one, and every problem found in it."""
    findings: list[Finding] = []
    flow: Flow | None = None
    try:
        flow = Flow.model_validate(document)
    except ValidationError as error:
        findings += [Finding(where, message) for where, message in explain(error, document)]
    findings += rules(document)
    unique = list(dict.fromkeys(findings))
    return (flow if not unique else None), unique


def rules(document: dict[str, Any]) -> list[Finding]:
    """The problems the models cannot see. Tolerant of a malformed document: what the models
    already report (a step that is not a mapping, an id that is not text) is skipped here."""
    steps = _steps(document)
    order = _first_positions(steps)
    found: list[Finding] = []
    found += _step_ids(steps, order)
    for position, step in steps:
        found += _targets(step, position, order)
        found += _conditions(step, position, order, steps)
        found += _scale(step, position)
        found += _options(step, position)
    found += _unreachable(steps, order)
    found += _templates(document, steps, order)
    found += _rehearsals(document, order)
    return found


# ---------------------------------------------------------------------------------------- steps


def _steps(document: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    steps = document.get("steps")
    if not isinstance(steps, list):
        return []
    return [(position, step) for position, step in enumerate(steps) if isinstance(step, dict)]


def _id(step: dict[str, Any]) -> str | None:
    value = step.get("id")
    return value if isinstance(value, str) and value else None


def _first_positions(steps: list[tuple[int, dict[str, Any]]]) -> dict[str, int]:
    order: dict[str, int] = {}
    for position, step in steps:
        step_id = _id(step)
        if step_id is not None and step_id not in order:
            order[step_id] = position
    return order


def _is_info(steps: list[tuple[int, dict[str, Any]]], position: int) -> bool:
    return any(p == position and s.get("kind") == "info" for p, s in steps)


def _step_list(order: dict[str, int]) -> str:
    return ", ".join(order) if order else "none yet"


def _maybe(name: str, choices: Iterable[str]) -> str:
    """`. Did you mean 'x'?` when a name looks like a misspelling of one of `choices`."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return f". Did you mean '{close[0]}'?" if close else ""


def _step_ids(steps: list[tuple[int, dict[str, Any]]], order: dict[str, int]) -> list[Finding]:
    found: list[Finding] = []
    for position, step in steps:
        step_id = _id(step)
        if step_id is None:
            continue
        if order[step_id] != position:
            found.append(
                Finding(
                    ("steps", position, "id"),
                    f"the step id '{step_id}' is already used by step {order[step_id] + 1}; "
                    "every step needs its own id",
                )
            )
        if step_id in CONTEXT_NAMES:
            found.append(
                Finding(
                    ("steps", position, "id"),
                    f"'{step_id}' is a name every template already has "
                    f"({', '.join(sorted(CONTEXT_NAMES))}); give the step another id",
                )
            )
        elif step_id in RESERVED_NAMES:
            found.append(
                Finding(
                    ("steps", position, "id"),
                    f"'{step_id}' is a reserved word in conditions and templates; "
                    "give the step another id",
                )
            )
    return found


# ---------------------------------------------------------------------------------------- next


def _routes(step: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    routes = step.get("next")
    if not isinstance(routes, list):
        return []
    return [(number, route) for number, route in enumerate(routes) if isinstance(route, dict)]


def _target_problem(target: Any, position: int, order: dict[str, int]) -> str | None:
    if not isinstance(target, str) or target == END:
        return None
    if target not in order:
        return (
            f"points to '{target}', which is not a step (steps are: {_step_list(order)}; "
            f"or '{END}' to finish){_maybe(target, order)}"
        )
    if order[target] <= position:
        where = "itself" if order[target] == position else f"'{target}', an earlier step"
        return (
            f"points back to {where}; a flow only goes forward (going back would ask "
            "answered questions again), so point it at a later step or 'end'"
        )
    return None


def _targets(step: dict[str, Any], position: int, order: dict[str, int]) -> list[Finding]:
    found: list[Finding] = []
    routes = step.get("next")
    if isinstance(routes, str):
        problem = _target_problem(routes, position, order)
        if problem:
            found.append(Finding(("steps", position, "next"), f"next {problem}"))
        return found
    if not isinstance(routes, list):
        return found
    if not routes:
        found.append(
            Finding(
                ("steps", position, "next"),
                "next is an empty list; remove it to go on to the following step",
            )
        )
    otherwise_at: int | None = None
    for number, route in _routes(step):
        if otherwise_at is not None:
            found.append(
                Finding(
                    ("steps", position, "next", number),
                    f"branch {number + 1} comes after the else in branch {otherwise_at + 1}, "
                    "so it is never used; put the else last",
                )
            )
        for key in ("then", "else"):
            problem = _target_problem(route.get(key), position, order)
            if problem:
                found.append(
                    Finding(
                        ("steps", position, "next", number, key),
                        f"branch {number + 1}: {key} {problem}",
                    )
                )
        if "else" in route and otherwise_at is None:
            otherwise_at = number
    return found


def _conditions(
    step: dict[str, Any],
    position: int,
    order: dict[str, int],
    steps: list[tuple[int, dict[str, Any]]],
) -> list[Finding]:
    found: list[Finding] = []
    for number, route in _routes(step):
        expression = route.get("if")
        if not isinstance(expression, str) or not expression.strip():
            continue
        where: Where = ("steps", position, "next", number, "if")
        label = f"branch {number + 1}: the condition {expression!r}"
        try:
            names = conditions.names(expression)
        except conditions.ConditionError as error:
            found.append(
                Finding(
                    where,
                    f"{label} cannot be read: {error}. Conditions look like "
                    'energy <= 2, mood in ["low", "flat"], or focus == "staff" and not stuck',
                )
            )
            continue
        for name in sorted(names):
            problem = _condition_name_problem(name, position, order, steps)
            if problem:
                found.append(Finding(where, f"{label} {problem}"))
    return found


def _condition_name_problem(
    name: str, position: int, order: dict[str, int], steps: list[tuple[int, dict[str, Any]]]
) -> str | None:
    if name in ("True", "False", "None"):
        return f"uses '{name}'; write it in lower case ({name.lower()})"
    if name not in order:
        return (
            f"names '{name}', which is not a step (steps are: {_step_list(order)})"
            f"{_maybe(name, order)}"
        )
    if order[name] > position:
        return (
            f"names '{name}', which comes later in the flow; a condition can only use "
            "answers given by now (this step's or earlier ones)"
        )
    if _is_info(steps, order[name]):
        return f"names '{name}', an info step, which has no answer to test"
    return None


def _unreachable(steps: list[tuple[int, dict[str, Any]]], order: dict[str, int]) -> list[Finding]:
    if not steps:
        return []
    by_position = dict(steps)
    last = max(by_position)

    def following(position: int) -> int | None:
        return position + 1 if position < last else None

    def targets(position: int) -> list[int | None]:
        step = by_position.get(position)
        if step is None:
            return [following(position)]
        routes = step.get("next")
        if isinstance(routes, str):
            return [order.get(routes)]
        if not isinstance(routes, list):
            return [following(position)]
        found: list[int | None] = []
        falls_through = True
        for route in routes:
            if not isinstance(route, dict):
                continue
            if "if" in route:
                found.append(order.get(route.get("then")))  # type: ignore[arg-type]
            elif "else" in route:
                found.append(order.get(route.get("else")))  # type: ignore[arg-type]
                falls_through = False
                break
        if falls_through:
            found.append(following(position))
        return found

    seen: set[int] = set()
    waiting: list[int] = [0]
    while waiting:
        position = waiting.pop()
        if position in seen:
            continue
        seen.add(position)
        waiting.extend(t for t in targets(position) if t is not None and t not in seen)
    return [
        Finding(
            ("steps", position),
            "this step can never be reached: no route from the first step leads to it; "
            "point a next (or a branch's then/else) at it, or remove it",
        )
        for position, step in steps
        if position not in seen
    ]


# ---------------------------------------------------------------------------------------- kinds


def _scale(step: dict[str, Any], position: int) -> list[Finding]:
    if step.get("kind") != "scale":
        return []
    low, high = step.get("min", 1), step.get("max", 5)
    if isinstance(low, int) and isinstance(high, int) and low >= high:
        return [
            Finding(
                ("steps", position, "min"),
                f"the scale runs from min {low} to max {high}; min must be less than max "
                "(e.g. min: 1, max: 5)",
            )
        ]
    return []


def _option_value(value: Any) -> str | None:
    # As the model reads it: YAML's `yes` is the text "yes", `3` is "3".
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _options(step: dict[str, Any], position: int) -> list[Finding]:
    if step.get("kind") not in ("choice", "multi") or not isinstance(step.get("options"), list):
        return []
    found: list[Finding] = []
    values: dict[str, int] = {}
    labels: dict[str, int] = {}
    commands = {word: kind for kind in _COMMAND_WORDS for word in messages.words(kind)}
    options = [(n, o) for n, o in enumerate(step["options"]) if isinstance(o, dict)]
    for number, option in options:
        where: Where = ("steps", position, "options", number)
        value = _option_value(option.get("value"))
        label = option.get("label")
        if value is not None:
            if value in values:
                found.append(
                    Finding(
                        (*where, "value"),
                        f"option {number + 1} has the value '{value}', like option "
                        f"{values[value] + 1}; every option needs its own value",
                    )
                )
            values.setdefault(value, number)
            if value.isdigit() and int(value) != number + 1:
                found.append(
                    Finding(
                        (*where, "value"),
                        f"option {number + 1} has the value '{value}', but typing {value} "
                        f"chooses option {value}; use a word as the value",
                    )
                )
        if isinstance(label, str):
            key = label.strip().lower()
            if key in labels:
                found.append(
                    Finding(
                        (*where, "label"),
                        f"option {number + 1} has the same label as option {labels[key] + 1} "
                        f"('{label}'); a leader could not tell them apart",
                    )
                )
            labels.setdefault(key, number)
        for text in {value, label.strip().lower() if isinstance(label, str) else None}:
            if text is not None and text.lower() in commands:
                found.append(
                    Finding(
                        where,
                        f"option {number + 1} ('{text}') is also what a leader types to "
                        f"{commands[text.lower()]}, so typing it would {commands[text.lower()]} "
                        "instead of choosing it; reword it",
                    )
                )
    most = step.get("max_choices")
    if step.get("kind") == "multi" and isinstance(most, int) and most > len(options):
        found.append(
            Finding(
                ("steps", position, "max_choices"),
                f"max_choices is {most} but there are only {len(options)} options",
            )
        )
    return found


# ---------------------------------------------------------------------------------------- templates


def _template_names(source: str, where: Where, label: str) -> tuple[dict[str, int], list[Finding]]:
    """The names a template uses (with the template line each first appears on), or why it
    does not compile."""
    env = environment()
    try:
        tree = env.parse(source)
        env.compile(tree)
    except TemplateSyntaxError as error:
        return {}, [
            Finding(
                where,
                f"the {label} template does not compile: {error.message}",
                template_line=error.lineno,
            )
        ]
    undeclared = meta.find_undeclared_variables(tree) - set(env.globals)
    lines: dict[str, int] = {}
    for name_node in tree.find_all(nodes.Name):
        if name_node.name in undeclared:
            lines.setdefault(name_node.name, name_node.lineno)
    return {name: lines.get(name, 1) for name in sorted(undeclared)}, []


def _templates(
    document: dict[str, Any], steps: list[tuple[int, dict[str, Any]]], order: dict[str, int]
) -> list[Finding]:
    found: list[Finding] = []
    infos = {step_id for step_id, position in order.items() if _is_info(steps, position)}
    context = ", ".join(sorted(CONTEXT_NAMES))

    def unknown(name: str) -> str:
        return (
            f"uses '{name}', which is not a step or one of {context}"
            f"{_maybe(name, [*order, *CONTEXT_NAMES])}"
        )

    intro = document.get("intro")
    if isinstance(intro, str):
        names, problems = _template_names(intro, ("intro",), "intro")
        found += problems
        for name, line in names.items():
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
            names, problems = _template_names(source, where, key)
            found += problems
            for name, line in names.items():
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
        names, problems = _template_names(summary, ("summary",), "summary")
        found += problems
        never = {
            _id(step)
            for _, step in steps
            if step.get("store") in ("never", False) and step.get("kind") != "info"
        }
        for name, line in names.items():
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


# ---------------------------------------------------------------------------------------- tests


def _rehearsals(document: dict[str, Any], order: dict[str, int]) -> list[Finding]:
    tests = document.get("tests")
    if not isinstance(tests, list):
        return []
    found: list[Finding] = []
    for number, rehearsal in enumerate(tests):
        if not isinstance(rehearsal, dict) or not isinstance(rehearsal.get("expect_steps"), list):
            continue
        for item, step_id in enumerate(rehearsal["expect_steps"]):
            if isinstance(step_id, str) and step_id not in order:
                found.append(
                    Finding(
                        ("tests", number, "expect_steps", item),
                        f"rehearsal {number + 1} expects the step '{step_id}', which is not a "
                        f"step (steps are: {_step_list(order)}){_maybe(step_id, order)}",
                    )
                )
    return found
