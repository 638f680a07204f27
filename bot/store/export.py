"""A leader's own reflections as a document they can keep: Markdown or JSON.

The words are in export.yaml beside this module. Flow titles are used when known (the caller
passes them), otherwise the flow id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.engine.reflections import Answer, StoredReflection

_WORDS = Path(__file__).with_name("export.yaml")


@cache
def _words() -> dict[str, str]:
    with _WORDS.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {str(key): str(value) for key, value in data.items()}


def as_json(
    reflections: Sequence[StoredReflection],
    *,
    exported_at: dt.datetime,
    titles: Mapping[str, str] | None = None,
) -> str:
    titles = titles or {}
    document = {
        "exported_at": exported_at.isoformat(),
        "reflections": [
            {
                "id": r.id,
                "flow_id": r.flow_id,
                "flow_title": titles.get(r.flow_id),
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat(),
                "summary": r.summary,
                "answers": [_answer(a) for a in r.answers],
            }
            for r in reflections
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def as_markdown(
    reflections: Sequence[StoredReflection],
    *,
    exported_at: dt.datetime,
    titles: Mapping[str, str] | None = None,
) -> str:
    titles = titles or {}
    words = _words()
    lines = [f"# {words['title']}", "", words["intro"].format(exported=_day(exported_at)), ""]
    if not reflections:
        lines += [words["empty"], ""]
    for r in reflections:
        title = titles.get(r.flow_id, r.flow_id)
        heading = words["reflection"].format(title=title, finished=_moment(r.finished_at))
        lines += [f"## {heading}", "", f"### {words['summary']}", "", r.summary.strip(), ""]
        if r.answers:
            lines += [f"### {words['answers']}", ""]
            lines += [f"- **{a.step_id}**: {_value(a.value)}" for a in r.answers]
            lines.append("")
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return " ".join(str(value).split()) if value is not None else _words()["skipped"]


def _day(at: dt.datetime) -> str:
    return at.strftime("%d %B %Y").lstrip("0")


def _moment(at: dt.datetime) -> str:
    return at.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def _answer(answer: Answer) -> dict[str, Any]:
    """An answer as exported; a scale answer says how it reads (bounds and heavy end)."""
    found: dict[str, Any] = {"step_id": answer.step_id, "kind": answer.kind, "value": answer.value}
    if answer.scale is not None:
        found["scale"] = {
            "min": answer.scale.min,
            "max": answer.scale.max,
            "heavy": answer.scale.heavy,
        }
    return found
