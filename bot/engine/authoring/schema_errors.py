"""The flow models' complaints (pydantic validation errors), said the way a flow author needs.

Pydantic locates an error by a path that mixes keys of the document with the names of the
union members it tried (`("steps", 1, "scale", "next", "str")`). `explain` keeps the keys, uses
the member names to keep only the errors of the member the author evidently meant (a list
`next` is not also told it should have been text), and words each error with the key, the
keys allowed there, and a suggestion when a key looks misspelt.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.engine.authoring.flow_document import Where, did_you_mean
from bot.engine.flows import (
    Branch,
    ChoiceStep,
    Flow,
    FollowUpStep,
    InfoStep,
    Meta,
    MultiChoiceStep,
    Option,
    Otherwise,
    Rehearsal,
    ScaleLabels,
    ScaleStep,
    TextStep,
)

STEP_KINDS: dict[str, type[BaseModel]] = {
    "text": TextStep,
    "choice": ChoiceStep,
    "multi": MultiChoiceStep,
    "scale": ScaleStep,
    "info": InfoStep,
    "follow_up": FollowUpStep,
}

_NEXT_SHAPE = (
    "next must be a step id, 'end', or a list of branches such as "
    '[{if: "energy <= 2", then: restore}, {else: work}]'
)
_ROUTE_SHAPE = (
    "a branch is either {if: CONDITION, then: STEP} or, last, {else: STEP}; "
    "this one has neither 'if' nor 'else'"
)
_PATTERNS = {
    "flow": "a flow id is lower-case letters, digits and hyphens, starting with a letter "
    "(e.g. hard-day)",
    "step": "a step id is lower-case letters, digits and underscores, starting with a letter "
    "(e.g. what_happened)",
    "option": "an option value is lower-case letters, digits, hyphens and underscores "
    "(e.g. talk_it_through)",
}
_HINTS = {
    "labels": " (e.g. labels: {min: light, max: very heavy})",
    "heavy": " (which end of the scale is heavy: heavy: max when more is heavier, as in "
    "'1 light .. 5 very heavy'; heavy: min the other way round)",
    "options": " (a list of {value: ..., label: ...})",
    "value": " (e.g. value: rest)",
    "meta": " (author, draws_on and last_reviewed)",
    "kind": f" (one of {', '.join(STEP_KINDS)})",
}


def explain(error: ValidationError, document: dict[str, Any]) -> list[tuple[Where, str]]:
    """Each error as (where in the document, what to fix), best first by position."""
    explained: list[tuple[Where, str]] = []
    dropped: set[Where] = set()
    for detail in error.errors(include_url=False):
        where, missing, tags = _locate(detail["loc"], document, missing=detail["type"] == "missing")
        unmeant = [at for at, tag in tags if not _meant(tag, _value_at(document, where[:at]))]
        if unmeant:
            dropped.add(where[: min(unmeant)])
            continue
        explained.append((where, _message(detail, where, missing, document)))
    # A value that fits none of a union's members: one message saying what is accepted.
    for where in sorted(dropped, key=len, reverse=True):
        if any(found[: len(where)] == where for found, _ in explained):
            continue
        if where and where[-1] == "next":
            explained.append((where, _NEXT_SHAPE))
        elif len(where) >= 2 and where[-2] == "next":
            explained.append((where, f"branch {int(where[-1]) + 1}: {_ROUTE_SHAPE}"))
        else:  # not expected with the current models; say what pydantic said
            explained.append((where, "this value has the wrong shape"))
    return explained


def _locate(
    loc: tuple[str | int, ...], document: Any, *, missing: bool
) -> tuple[Where, str | None, list[tuple[int, str]]]:
    """Split pydantic's location into the path in the document, the missing key (for a
    'missing' error) and the union members named on the way (with where they were named)."""
    where: list[str | int] = []
    tags: list[tuple[int, str]] = []
    cursor = document
    for number, part in enumerate(loc):
        inside_mapping = isinstance(cursor, dict) and part in cursor
        inside_list = isinstance(cursor, list) and isinstance(part, int) and 0 <= part < len(cursor)
        if inside_mapping or inside_list:
            where.append(part)
            cursor = cursor[part]
        elif missing and number == len(loc) - 1:
            return tuple(where), str(part), tags
        else:
            tags.append((len(where), str(part)))
    return tuple(where), None, tags


def _value_at(document: Any, where: Where) -> Any:
    cursor = document
    for part in where:
        cursor = cursor[part]
    return cursor


def _meant(tag: str, value: Any) -> bool:
    """Whether the author meant this union member for `value`."""
    if tag == "str":
        return isinstance(value, str)
    if tag.startswith("list["):
        return isinstance(value, list)
    if tag == "Branch":
        return isinstance(value, dict) and ("if" in value or "then" in value)
    if tag == "Otherwise":
        return isinstance(value, dict) and "else" in value and "if" not in value
    return True


def model_at(where: Where, document: Any) -> type[BaseModel] | None:
    """The model that describes the mapping at `where`, if any."""
    shape = tuple("#" if isinstance(part, int) else part for part in where)
    value = _value_at(document, where) if _exists(document, where) else None
    if shape == ():
        return Flow
    if shape == ("meta",):
        return Meta
    if shape == ("tests", "#"):
        return Rehearsal
    if shape == ("steps", "#"):
        kind = value.get("kind") if isinstance(value, dict) else None
        return STEP_KINDS.get(kind) if isinstance(kind, str) else None
    if shape == ("steps", "#", "options", "#"):
        return Option
    if shape == ("steps", "#", "labels"):
        return ScaleLabels
    if shape == ("steps", "#", "next", "#"):
        return Branch if _meant("Branch", value) else Otherwise
    return None


def _exists(document: Any, where: Where) -> bool:
    try:
        _value_at(document, where)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def describe(where: Where) -> str:
    """A path, in words, leaving out the step (which a problem names on its own)."""
    parts = list(where[2:] if where[:1] == ("steps",) and len(where) >= 2 else where)
    words: list[str] = []
    previous: str | int | None = None
    for part in parts:
        if isinstance(part, int):
            if previous == "options":
                words[-1] = f"option {part + 1}"
            elif previous == "next":
                words[-1] = f"branch {part + 1}"
            elif previous == "tests":
                words[-1] = f"rehearsal {part + 1}"
            else:
                words[-1] = f"{words[-1]} item {part + 1}" if words else f"item {part + 1}"
        else:
            words.append(part)
        previous = part
    return " ".join(words)


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


def _message(detail: Any, where: Where, missing: str | None, document: Any) -> str:
    kind = detail["type"]
    value = detail.get("input")
    if kind == "missing" and missing is not None:
        place = describe(where)
        hint = _HINTS.get(missing, "")
        if missing == "then" and len(where) >= 2 and where[-2] == "next":
            return f"{place} has 'if' but no 'then': say which step to go to when it holds"
        if missing == "if" and len(where) >= 2 and where[-2] == "next":
            return (
                f"{place} has 'then' but no 'if': add the condition, or make it "
                "{else: STEP} as the last branch"
            )
        return f"{place + ': ' if place else ''}missing '{missing}'{hint}, which is required"
    if kind == "extra_forbidden":
        key = str(where[-1])
        model = model_at(where[:-1], document)
        place = describe(where[:-1])
        allowed = _keys(model) if model else []
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        advice = []
        if close:
            advice.append(f"Did you mean '{close[0]}'?")
        if key == "else" and model is Branch:
            advice.append("Put {else: STEP} in a branch of its own, after the others.")
        elif key == "options" and model in (TextStep, ScaleStep, InfoStep):
            advice.append("Only choice and multi steps have options.")
        text = f"{place + ': ' if place else ''}unknown key '{key}'"
        if advice:
            text += ". " + " ".join(advice)
        if allowed:
            text += f" (allowed here: {', '.join(allowed)})"
        return text
    if kind == "union_tag_not_found":
        return f"missing 'kind': say what the step is, one of {', '.join(STEP_KINDS)}"
    if kind == "union_tag_invalid":
        tag = detail.get("ctx", {}).get("tag", value)
        close = difflib.get_close_matches(str(tag), list(STEP_KINDS), n=1, cutoff=0.6)
        suggestion = f". Did you mean '{close[0]}'?" if close else ""
        return f"kind '{tag}' is not a step kind; use one of {', '.join(STEP_KINDS)}{suggestion}"
    place = describe(where)
    if kind == "string_pattern_mismatch" and where and where[-1] in ("id", "value"):
        which = "flow" if where == ("id",) else "option" if where[-1] == "value" else "step"
        return f"{place} {_got(value)} is not allowed: {_PATTERNS[which]}"
    if kind == "string_type" and isinstance(value, bool | int | float) and "tests" in where[:1]:
        return f'{place} must be text: write it in quotes, like "{value}"'
    if kind == "literal_error":
        expected = detail.get("ctx", {}).get("expected", "")
        allowed = re.findall(r"'([^']*)'", expected)
        return f"{place} must be {expected}, not {_got(value)}{did_you_mean(str(value), allowed)}"
    text = f"{place + ': ' if place else ''}{detail['msg']}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        text += f", not {_got(value)}"
    return text
