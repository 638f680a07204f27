"""The bot's own words. Copy lives in `messages.yaml`, beside this module, not in code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

_FILE = Path(__file__).with_name("messages.yaml")


@cache
def _catalogue() -> dict[str, Any]:
    with _FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise RuntimeError(f"{_FILE}: expected a mapping of message keys")
    return data


def text(key: str, **params: Any) -> str:
    """The message `key`, with `{name}` placeholders filled from `params`."""
    value: Any = _catalogue()
    for part in key.split("."):
        value = value[part]
    if not isinstance(value, str):
        raise KeyError(f"message {key!r} is not text")
    return value.format(**params).strip() if params else value.strip()


def words(key: str) -> frozenset[str]:
    """A list of command words (e.g. what counts as 'skip'), lower-cased."""
    value = _catalogue()["words"][key]
    return frozenset(str(word).lower() for word in value)
