"""The supervisor directory: who a leader can book, and what they need to know first.

config/supervisors.yaml lists people or services outside the leader's line management. Each
entry says who it is for and in which sector and nations, what it costs, its format and
length, who is eligible, the typical wait, what stays confidential, and how to book (a web
address, or an email address that Reflect fills in with the leader's supervision agenda).

The file is checked like a flow: every problem, with its file and line. An entry whose booking
details are a placeholder (example.org, a made-up address) is left out with a warning, so no
placeholder ever reaches a leader: it is better to show nothing than a link that goes nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.engine.replies import Supervisor

#: Hosts reserved for examples (RFC 2606) and other signs of an address nobody filled in.
_PLACEHOLDER_HOSTS = re.compile(
    r"(^|\.)(example\.(org|com|net)|example|test|invalid|localhost)$", re.IGNORECASE
)
_PLACEHOLDER_WORDS = re.compile(r"\b(todo|tbc|tbd|changeme|your[-_ ]?org)\b", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")


class SupervisorsError(ValueError):
    """The supervisors file cannot be used; the message lists every problem, file:line."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    for_whom: str = Field(alias="for", min_length=1, max_length=200)
    sectors: list[str] = Field(min_length=1)
    nations: list[str] = Field(min_length=1)
    cost: str = Field(min_length=1, max_length=200)
    format: str = Field(min_length=1, max_length=200)
    eligibility: str = Field(min_length=1, max_length=300)
    wait: str = Field(min_length=1, max_length=200)
    confidentiality: str = Field(min_length=1, max_length=300)
    booking_url: str | None = None
    email: str | None = None
    last_checked: str | None = None

    @model_validator(mode="after")
    def _how_to_book(self) -> _Entry:
        if not (self.booking_url or self.email):
            raise ValueError("give a booking_url or an email, so that leaders can book")
        if self.booking_url is not None:
            parts = urlsplit(self.booking_url)
            if parts.scheme != "https" or not parts.netloc:
                raise ValueError(f"booking_url {self.booking_url!r} is not an https:// address")
        if self.email is not None and not _EMAIL.match(self.email):
            raise ValueError(f"email {self.email!r} is not an email address")
        return self


class _Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    supervisors: list[_Entry] = Field(default_factory=list)


@dataclass(frozen=True)
class Directory:
    """The usable entries, and a warning for each entry left out."""

    supervisors: tuple[Supervisor, ...]
    warnings: tuple[str, ...] = ()


def placeholder(entry: Supervisor) -> str | None:
    """Why an entry's booking details look like a placeholder, or None."""
    for where in (entry.booking_url, entry.email):
        if not where:
            continue
        host = urlsplit(where).hostname if "://" in where else where.rpartition("@")[2]
        if host and _PLACEHOLDER_HOSTS.search(host):
            return f"{where} is a placeholder address"
        if _PLACEHOLDER_WORDS.search(where):
            return f"{where} looks unfinished"
    return None


def load_directory(path: Path) -> Directory:
    """Read and check the directory file. Raises SupervisorsError (file:line for each
    problem); an entry with placeholder booking details is left out with a warning."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SupervisorsError(f"{path}: cannot read the supervisors file ({error}).") from error
    return parse_directory(text, source=str(path))


def parse_directory(text: str, *, source: str = "supervisors.yaml") -> Directory:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        at_line = f":{mark.line + 1}" if mark else ""
        raise SupervisorsError(f"{source}{at_line}: not valid YAML ({error.problem}).") from error
    except yaml.YAMLError as error:
        raise SupervisorsError(f"{source}: not valid YAML ({error}).") from error
    if data is None:
        return Directory(())
    lines = _lines(node) if node is not None else {}
    try:
        directory = _Directory.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            path = tuple(part for part in detail["loc"] if not str(part).startswith("function"))
            found = _line(lines, path)
            place = f"{source}:{found}" if found else source
            field = ".".join(str(part) for part in path) or "file"
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "extra_forbidden":
                message = "unknown key (see the comments at the top of the file)"
            problems.append(f"{place}: {field}: {message}")
        raise SupervisorsError(
            "the supervisors file has problems:\n" + "\n".join(f"  {p}" for p in problems)
        ) from None
    kept: list[Supervisor] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for number, entry in enumerate(directory.supervisors):
        supervisor = Supervisor(
            name=entry.name,
            for_whom=entry.for_whom,
            sectors=tuple(entry.sectors),
            nations=tuple(entry.nations),
            cost=entry.cost,
            format=entry.format,
            eligibility=entry.eligibility,
            wait=entry.wait,
            confidentiality=entry.confidentiality,
            booking_url=entry.booking_url,
            email=entry.email,
        )
        at = _line(lines, ("supervisors", number))
        place = f"{source}:{at}" if at else source
        if entry.name.casefold() in seen:
            raise SupervisorsError(f"{place}: {entry.name!r} is listed twice")
        seen.add(entry.name.casefold())
        why = placeholder(supervisor)
        if why:
            warnings.append(f"{place}: {entry.name!r} left out of the supervisor directory: {why}")
            continue
        kept.append(supervisor)
    return Directory(tuple(kept), tuple(warnings))


def _lines(node: Node, where: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    found = {where: node.start_mark.line + 1}
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                found[(*where, key.value)] = key.start_mark.line + 1
                found.update(_lines(value, (*where, key.value)))
                found[(*where, key.value)] = key.start_mark.line + 1
    elif isinstance(node, SequenceNode):
        for number, item in enumerate(node.value):
            found.update(_lines(item, (*where, number)))
    return found


def _line(lines: dict[tuple[Any, ...], int], where: tuple[Any, ...]) -> int | None:
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return None
