"""The weekly nudges' own words, from `copy.yaml` beside this module (copy lives in YAML)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

_FILE = Path(__file__).with_name("copy.yaml")


@cache
def _catalogue() -> dict[str, Any]:
    data = yaml.safe_load(_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise RuntimeError(f"{_FILE}: expected a mapping of message keys")
    return data


def text(key: str, **params: Any) -> str:
    """The words under `key` (dotted), with `{name}` placeholders filled from `params`."""
    value: Any = _catalogue()
    for part in key.split("."):
        value = value[part]
    if not isinstance(value, str):
        raise KeyError(f"copy {key!r} is not text")
    return value.format(**params).strip() if params else value.strip()
