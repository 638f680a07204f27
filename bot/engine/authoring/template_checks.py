"""Checking a flow's templates (intro, prompts, help, summary) before any leader sees them.

A template must compile in the sandboxed environment of bot.engine.rendering and name only
what it will have: the small context (first name, flow title, part of day) and the answers
given before it is shown. The summary is kept, so it may not quote an answer whose step says
`store: never`. Templates see a choice's label, not its value, so comparing with a value never
holds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
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
from bot.engine.rendering import CONTEXT_NAMES, environment


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
        env.compile(source)  # its own parse: compiling folds constants in the tree it is given
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
    """Every problem in the intro, the prompts and help texts, and the summary."""
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
