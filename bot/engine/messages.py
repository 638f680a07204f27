"""The bot's own words. Copy lives in YAML, not in code: the engine's in `messages.yaml` beside
this module, the Slack app's and the weekly nudges' in their own `copy.yaml`, each read through
a `Catalogue`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from bot.engine.config_file import load_yaml


class Catalogue:
    """Words kept in a YAML file of (nested) keys, read once on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def _data(self) -> dict[str, Any]:
        data = load_yaml(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise RuntimeError(f"{self.path}: expected a mapping of message keys")
        return data

    def text(self, key: str, **params: Any) -> str:
        """The words under `key` (dotted), with `{name}` placeholders filled from `params`."""
        value: Any = self._data
        for part in key.split("."):
            value = value[part]
        if not isinstance(value, str):
            raise KeyError(f"{self.path.name}: {key!r} is not text")
        return value.format(**params).strip() if params else value.strip()

    @cached_property
    def _words(self) -> dict[str, frozenset[str]]:
        listed = self._data.get("words", {})
        return {
            key: frozenset(str(word).lower() for word in words) for key, words in listed.items()
        }

    def words(self, key: str) -> frozenset[str]:
        """A list of command words under `words.<key>` (e.g. what counts as 'skip')."""
        return self._words[key]


_MESSAGES = Catalogue(Path(__file__).with_name("messages.yaml"))
text = _MESSAGES.text
words = _MESSAGES.words
