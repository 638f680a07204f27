"""Reading a configuration file (safety phrases, signposts) as YAML, with one clear error."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

#: libyaml's parser where PyYAML was built with it: several times faster on the safety phrase
#: lists, read at every start.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """What the YAML `text` holds, as yaml.safe_load reads it. Text libyaml refuses is read
    again by PyYAML's own parser, whose error (with its line and pointer) is the one raised."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)


def read_yaml(path: Path, *, what: str, error: Callable[[str], Exception]) -> Any:
    """What the YAML file at `path` holds; `error(message)`, naming the file and `what` it is,
    if it cannot be read or is not YAML."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise error(f"{path}: cannot read {what} ({problem}).") from problem
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML ({problem}).") from problem


def load_config(
    path: Path,
    *,
    what: str,
    error: Callable[[str], Exception],
    parse: Callable[..., T],
) -> T:
    """Read the file at `path` (`read_yaml`) and check it with `parse(data, source=path)`."""
    return parse(read_yaml(path, what=what, error=error), source=str(path))


def mapping_problems(
    data: Any,
    *,
    known: Collection[str],
    source: str,
    expected: str,
    error: Callable[[str], Exception],
) -> list[str]:
    """The unknown keys of the mapping a configuration file holds, as its first problems;
    `error(...)` saying what was `expected` if it holds no mapping at all."""
    if not isinstance(data, dict):
        raise error(f"{source}: expected {expected}.")
    return [f"unknown key {key!r}" for key in sorted(set(data) - set(known))]
