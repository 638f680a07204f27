"""A flow document as YAML gives it (plain mappings and lists), read tolerantly.

The checks in bot.engine.authoring.validation and bot.engine.authoring.template_checks read
flows that may be malformed; these helpers skip what is not the shape they expect (the flow
models report that) rather than fail. A problem found is a `Finding`: where it is, as a path
into the document such as `("steps", 2, "next", 0, "then")`, and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Where = tuple[str | int, ...]
Steps = list[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Finding:
    """One problem: where it is in the flow document and what to do about it.

    `template_line` is set for a problem inside a template: its line within that template.
    """

    where: Where
    message: str
    template_line: int | None = None


def steps_of(document: dict[str, Any]) -> Steps:
    """The steps that are mappings, with their positions."""
    steps = document.get("steps")
    if not isinstance(steps, list):
        return []
    return [(position, step) for position, step in enumerate(steps) if isinstance(step, dict)]


def step_id(step: dict[str, Any]) -> str | None:
    value = step.get("id")
    return value if isinstance(value, str) and value else None


def positions(steps: Steps) -> dict[str, int]:
    """Each step id and where it first appears."""
    order: dict[str, int] = {}
    for position, step in steps:
        found = step_id(step)
        if found is not None and found not in order:
            order[found] = position
    return order


def info_steps(steps: Steps) -> set[str]:
    return {found for _, step in steps if step.get("kind") == "info" and (found := step_id(step))}


def step_list(order: dict[str, int]) -> str:
    return ", ".join(order) if order else "none yet"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`. Did you mean 'x'?` when a name looks like a misspelling of one of `choices`."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return f". Did you mean '{close[0]}'?" if close else ""


def option_value(value: Any) -> str | None:
    """An option's value as the model reads it: YAML's `yes` is the text "yes", `3` is "3"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def options_by_step(steps: Steps) -> dict[str, dict[str, str]]:
    """For each choice and multi step: its options, value to label."""
    found: dict[str, dict[str, str]] = {}
    for _, step in steps:
        found_id = step_id(step)
        if found_id is None or step.get("kind") not in ("choice", "multi"):
            continue
        options = step.get("options")
        found[found_id] = {
            value: str(option.get("label"))
            for option in (options if isinstance(options, list) else [])
            if isinstance(option, dict) and (value := option_value(option.get("value")))
        }
    return found
