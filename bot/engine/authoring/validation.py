"""What is wrong with a flow, in words its author can act on.

`check(document)` takes a flow as read from YAML (plain mappings and lists) and returns the
`Flow` if it is sound, and every problem found otherwise, not only the first. The models in
`bot.engine.flows` catch the shape (unknown keys, missing fields, wrong types, see
`bot.engine.authoring.schema_errors`); the rules here catch what a schema cannot: steps that
point nowhere or cannot be reached, conditions and templates that name answers that do not exist
yet, answers a summary may not quote, options a leader could not choose.

Each problem says where it is as a path into the document, such as `("steps", 2, "next", 0,
"then")`, so the loader can point at the file and line.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.engine import conditions, messages
from bot.engine.authoring.flow_document import (
    Finding,
    Steps,
    Where,
    did_you_mean,
    info_steps,
    option_value,
    options_by_step,
    positions,
    step_id,
    step_list,
    steps_of,
)
from bot.engine.authoring.schema_errors import explain
from bot.engine.authoring.template_checks import check_templates
from bot.engine.flows import END, FOLLOW_UP_VALUES, Flow
from bot.engine.rendering import CONTEXT_NAMES

#: Words a step id cannot be: they mean something else in a condition or a template.
RESERVED_NAMES = frozenset(
    {*conditions.KEYWORDS, "is", "if", "else", "elif", "for", "loop", "self", "super", "caller"}
)

#: Command words a leader types during a flow; an option spelled the same could not be chosen
#: by typing it.
_COMMAND_WORDS = ("skip", "back", "pause", "stop", "help")


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
    steps = steps_of(document)
    order = positions(steps)
    found: list[Finding] = []
    found += _step_ids(steps, order)
    for position, step in steps:
        found += _targets(step, position, order)
        found += _conditions(step, position, order, steps)
        found += _scale(step, position)
        found += _options(step, position)
        found += _follow_up(step, position)
    found += _next_time(steps)
    found += _unreachable(steps, order)
    found += check_templates(document)
    found += _rehearsals(document, order)
    found += _keywords(document)
    return found


# ---------------------------------------------------------------------------------------- steps


def _step_ids(steps: Steps, order: dict[str, int]) -> list[Finding]:
    found: list[Finding] = []
    for position, step in steps:
        found_id = step_id(step)
        if found_id is None:
            continue
        if order[found_id] != position:
            found.append(
                Finding(
                    ("steps", position, "id"),
                    f"the step id '{found_id}' is already used by step {order[found_id] + 1}; "
                    "every step needs its own id",
                )
            )
        if found_id in CONTEXT_NAMES:
            found.append(
                Finding(
                    ("steps", position, "id"),
                    f"'{found_id}' is a name every template already has "
                    f"({', '.join(sorted(CONTEXT_NAMES))}); give the step another id",
                )
            )
        elif found_id in RESERVED_NAMES:
            found.append(
                Finding(
                    ("steps", position, "id"),
                    f"'{found_id}' is a reserved word in conditions and templates; "
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
            f"points to '{target}', which is not a step (steps are: {step_list(order)}; "
            f"or '{END}' to finish){did_you_mean(target, order)}"
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
    steps: Steps,
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
        options = options_by_step(steps)
        for name, value in conditions.compared(expression):
            if name not in options or not isinstance(value, str) or value in options[name]:
                continue
            by_label = {text.lower(): key for key, text in options[name].items()}
            if value.lower() in by_label:
                hint = (
                    f", an option's label; conditions see the option's value, so write "
                    f"{by_label[value.lower()]!r}"
                )
            else:
                hint = (
                    f", which is not one of its option values ({', '.join(options[name])})"
                    f"{did_you_mean(value, options[name])}"
                )
            found.append(Finding(where, f"{label} compares '{name}' with {value!r}{hint}"))
    return found


def _condition_name_problem(
    name: str, position: int, order: dict[str, int], steps: Steps
) -> str | None:
    if name in ("True", "False", "None"):
        return f"uses '{name}'; write it in lower case ({name.lower()})"
    if name not in order:
        return (
            f"names '{name}', which is not a step (steps are: {step_list(order)})"
            f"{did_you_mean(name, order)}"
        )
    if order[name] > position:
        return (
            f"names '{name}', which comes later in the flow; a condition can only use "
            "answers given by now (this step's or earlier ones)"
        )
    if name in info_steps(steps):
        return f"names '{name}', an info step, which has no answer to test"
    return None


def _unreachable(steps: Steps, order: dict[str, int]) -> list[Finding]:
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
    points = step.get("points")
    if isinstance(points, list) and isinstance(low, int) and isinstance(high, int):
        wanted = high - low + 1
        if len(points) != wanted:
            return [
                Finding(
                    ("steps", position, "points"),
                    f"points gives {len(points)} words, but the scale has {wanted} points "
                    f"({low} to {high}); give one word for each, low to high",
                )
            ]
        words = [str(p).strip().lower() for p in points]
        if len(set(words)) != len(words):
            return [
                Finding(
                    ("steps", position, "points"),
                    "two points share a word; a leader could not tell them apart",
                )
            ]
    return []


def _follow_up(step: dict[str, Any], position: int) -> list[Finding]:
    if step.get("kind") != "follow_up" or not isinstance(step.get("options"), list):
        return []
    values = [option_value(o.get("value")) for o in step["options"] if isinstance(o, dict)]
    if sorted(v for v in values if v) != sorted(FOLLOW_UP_VALUES):
        return [
            Finding(
                ("steps", position, "options"),
                "a follow_up step offers exactly the values "
                f"{', '.join(FOLLOW_UP_VALUES)} (in any order, with labels of your own); "
                f"it has {', '.join(str(v) for v in values) or 'none'}",
            )
        ]
    return []


def _next_time(steps: Steps) -> list[Finding]:
    """`ask_next_time` marks one text step whose answer is kept."""
    found: list[Finding] = []
    marked = [(position, step) for position, step in steps if step.get("ask_next_time") is True]
    for position, step in marked:
        if step.get("kind") != "text" or step.get("store", "yes") not in ("yes", True):
            found.append(
                Finding(
                    ("steps", position, "ask_next_time"),
                    "ask_next_time marks a text step whose answer is kept (store: yes): "
                    "Reflect asks about it next time, in the leader's words",
                )
            )
    for position, _ in marked[1:]:
        found.append(
            Finding(
                ("steps", position, "ask_next_time"),
                f"only one step per flow is the next step to ask about; step "
                f"{marked[0][0] + 1} already is",
            )
        )
    return found


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
        value = option_value(option.get("value"))
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


# ---------------------------------------------------------------------------------------- tests


def _rehearsals(document: dict[str, Any], order: dict[str, int]) -> list[Finding]:
    tests = document.get("tests")
    if not isinstance(tests, list):
        return []
    found: list[Finding] = []
    for number, rehearsal in enumerate(tests):
        if not isinstance(rehearsal, dict) or not isinstance(rehearsal.get("expect_steps"), list):
            continue
        for item, expected in enumerate(rehearsal["expect_steps"]):
            if isinstance(expected, str) and expected not in order:
                found.append(
                    Finding(
                        ("tests", number, "expect_steps", item),
                        f"rehearsal {number + 1} expects the step '{expected}', which is not a "
                        f"step (steps are: {step_list(order)}){did_you_mean(expected, order)}",
                    )
                )
    return found


# ---------------------------------------------------------------------------------------- keywords

#: What a leader types outside a flow that means something before any flow is looked for.
_IDLE_WORDS = ("resume", "help", "pause", "stop")


def _keywords(document: dict[str, Any]) -> list[Finding]:
    keywords = document.get("keywords")
    if not isinstance(keywords, list):
        return []
    commands = {word: kind for kind in _IDLE_WORDS for word in messages.words(kind)}
    found: list[Finding] = []
    for number, keyword in enumerate(keywords):
        said = " ".join(keyword.lower().split()) if isinstance(keyword, str) else None
        if said in commands:
            found.append(
                Finding(
                    ("keywords", number),
                    f"the keyword '{keyword}' is what a leader types to {commands[said]}, so it "
                    "would never start this flow; choose another",
                )
            )
    return found
