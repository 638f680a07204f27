"""Loading flows from YAML files, with every problem pointed at its file and line.

    loaded = load_library(paths, default="hard-day")
    loaded.library     # the flows that are sound
    loaded.problems    # what is wrong with the others, e.g.
    # flows/x.yaml:14: flow 'x', step 'energy': next points to 'restor', which is not a step ...

A file with any problem is refused as a whole; the other files still load. Nothing here raises
on a bad file: an unreadable file, broken YAML or a wrong shape is a problem like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.engine.authoring.validation import Finding, Where, check
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary

#: The file endings a folder of flows is searched for.
FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FlowProblem:
    """Something wrong with a flow file, said so that its author can fix it."""

    file: Path
    line: int | None
    flow_id: str | None
    step_id: str | None
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else str(self.file)
        about = []
        if self.flow_id:
            about.append(f"flow '{self.flow_id}'")
        if self.step_id:
            about.append(f"step '{self.step_id}'")
        return f"{place}: {', '.join(about) + ': ' if about else ''}{self.message}"


@dataclass(frozen=True)
class Loaded:
    """The sound flows, as a library, and the problems of the files that were refused."""

    library: FlowLibrary
    problems: list[FlowProblem]
    #: Which file each loaded flow came from.
    sources: dict[str, Path] = field(default_factory=dict)


class FlowError(ValueError):
    """A flow file that cannot be used; `problems` says every reason."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def load_flow(path: Path) -> Flow:
    """The flow in `path`; raises FlowError listing every problem when it is not sound."""
    flow, problems, _ = _read(path)
    if flow is None:
        raise FlowError(problems)
    return flow


def load_library(paths: Iterable[Path], *, default: str) -> Loaded:
    """Every sound flow in `paths` (files), and the problems of the rest.

    Two files may not share a flow id: the later one is refused.
    """
    flows: list[Flow] = []
    problems: list[FlowProblem] = []
    sources: dict[str, Path] = {}
    claimed: dict[str, Path] = {}
    for path in paths:
        flow, found, document = _read(path)
        flow_id = document.flow_id if document else None
        if flow_id is not None and flow_id in claimed:
            found.append(
                FlowProblem(
                    file=path,
                    line=document.line(("id",)) if document else None,
                    flow_id=flow_id,
                    step_id=None,
                    message=f"the flow id '{flow_id}' is already used by {claimed[flow_id]}; "
                    "every flow needs its own id",
                )
            )
        elif flow_id is not None:
            claimed[flow_id] = path
        if found or flow is None:
            problems += sorted(found, key=lambda p: p.line or 0)
            continue
        flows.append(flow)
        sources[flow.id] = path
    return Loaded(FlowLibrary(flows, default=default), problems, sources)


def flow_files(paths: Iterable[Path]) -> tuple[list[Path], list[FlowProblem]]:
    """The flow files named by `paths`: files as they are, folders searched for *.yaml and
    *.yml (not recursively). A path that does not exist is a problem."""
    files: list[Path] = []
    problems: list[FlowProblem] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in FLOW_SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            problems.append(FlowProblem(path, None, None, None, "no such file or folder"))
    return files, problems


# ---------------------------------------------------------------------------------------- reading


@dataclass
class _Document:
    """A flow file as YAML read it, with the line of every key and list item."""

    data: Any
    lines: dict[Where, int] = field(default_factory=dict)
    #: For each key: the line its value starts on, and whether it is a block (| or >) scalar.
    values: dict[Where, tuple[int, bool]] = field(default_factory=dict)
    duplicates: list[tuple[Where, int]] = field(default_factory=list)

    @property
    def flow_id(self) -> str | None:
        value = self.data.get("id") if isinstance(self.data, dict) else None
        return value if isinstance(value, str) and value else None

    def line(self, where: Where, *, template_line: int | None = None) -> int | None:
        if template_line is not None and where in self.values:
            start, block = self.values[where]
            return start + (1 if block else 0) + template_line - 1
        for end in range(len(where), -1, -1):
            if where[:end] in self.lines:
                return self.lines[where[:end]]
        return None

    def step_id(self, where: Where) -> tuple[str | None, int | None]:
        """The id of the step `where` is in (or None), and that step's position."""
        if len(where) < 2 or where[0] != "steps" or not isinstance(where[1], int):
            return None, None
        steps = self.data.get("steps") if isinstance(self.data, dict) else None
        step = steps[where[1]] if isinstance(steps, list) and where[1] < len(steps) else None
        step_id = step.get("id") if isinstance(step, dict) else None
        return (step_id if isinstance(step_id, str) and step_id else None), where[1]


class _LineNotes:
    """What both line-noting loaders add to a safe loader: where each key and list item is."""

    get_single_node: Any
    construct_document: Any

    def read(self) -> _Document | None:
        node = self.get_single_node()
        if node is None:
            return None
        document = _Document(self.construct_document(node))
        document.lines[()] = node.start_mark.line + 1
        self._note(node, (), document)
        return document

    def _note(self, node: Node, where: Where, document: _Document) -> None:
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.value == "<<":
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                here = (*where, key)
                if key in seen:
                    document.duplicates.append((here, seen[key]))
                seen[key] = line
                document.lines[here] = line
                block = isinstance(value_node, ScalarNode) and value_node.style in ("|", ">")
                document.values[here] = (value_node.start_mark.line + 1, block)
                self._note(value_node, here, document)
        elif isinstance(node, SequenceNode):
            for number, item in enumerate(node.value):
                here = (*where, number)
                document.lines[here] = item.start_mark.line + 1
                document.values[here] = (item.start_mark.line + 1, False)
                self._note(item, here, document)


class _LineLoader(_LineNotes, yaml.SafeLoader):
    """The pure-Python safe loader, noting lines: its error messages are the ones authors see."""


#: The same on libyaml when PyYAML has it (several times faster); any file it cannot read is
#: read again by _LineLoader, so that an author's error message is the same either way.
_FastLineLoader: type[_LineNotes] | None = (
    type("_FastLineLoader", (_LineNotes, yaml.CSafeLoader), {})
    if getattr(yaml, "__with_libyaml__", False)
    else None
)


def _parse(text: str) -> _Document | None:
    """The YAML document in `text` with its lines; errors as _LineLoader raises them."""
    if _FastLineLoader is not None:
        fast: Any = _FastLineLoader(text)  # type: ignore[call-arg]
        try:
            return fast.read()
        except (yaml.YAMLError, ValueError):
            pass  # read again below, for the pure-Python loader's message
        finally:
            fast.dispose()
    loader = _LineLoader(text)
    try:
        return loader.read()
    finally:
        loader.dispose()


def _yaml_hint(problem: str) -> str:
    if "'\\t'" in problem:
        return "; indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "; a value containing ': ' needs quotes around it"
    if "could not find expected ':'" in problem:
        return "; a line may be missing its ':', or a quote is not closed"
    if "expected a single document" in problem:
        return "; one flow per file, so remove the '---' line"
    return ""


def _read(path: Path) -> tuple[Flow | None, list[FlowProblem], _Document | None]:
    def problem(message: str, line: int | None = None) -> FlowProblem:
        return FlowProblem(path, line, None, None, message)

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [problem("the file is not UTF-8 text; save it as UTF-8")], None
    except OSError as error:
        return None, [problem(f"cannot be read ({error.strerror or error})")], None
    try:
        document = _parse(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        what = " ".join(part for part in (error.context, error.problem) if part)
        line = mark.line + 1 if mark else None
        start = error.context_mark.line + 1 if error.context_mark else None
        if start is not None and start != line:
            what += f" (it began on line {start})"
        return None, [problem(f"this is not valid YAML: {what}{_yaml_hint(what)}", line)], None
    except (yaml.YAMLError, ValueError) as error:  # e.g. a date such as 2026-13-45
        return None, [problem(f"this is not valid YAML: {error}")], None
    if document is None:
        return None, [problem("the file is empty; a flow starts with schema_version: 1")], None
    if not isinstance(document.data, dict):
        return (
            None,
            [problem("a flow file is a mapping of keys (id:, title:, steps: ...)", 1)],
            document,
        )

    findings = [
        Finding(
            where,
            f"the key '{where[-1]}' appears twice (first on line {first}); "
            "YAML keeps only the last one, so remove or merge one of them",
        )
        for where, first in document.duplicates
    ]
    flow, found = check(document.data)
    findings += found
    problems = [_locate(finding, path, document) for finding in findings]
    problems.sort(key=lambda p: p.line or 0)
    return (flow if not problems else None), problems, document


def _locate(finding: Finding, path: Path, document: _Document) -> FlowProblem:
    step_id, position = document.step_id(finding.where)
    message = finding.message
    if step_id is None and position is not None:
        message = f"step {position + 1} (no usable id): {message}"
    return FlowProblem(
        file=path,
        line=document.line(finding.where, template_line=finding.template_line),
        flow_id=document.flow_id,
        step_id=step_id,
        message=message,
    )
