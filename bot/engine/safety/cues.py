"""Layer 2 of the safety screen: cues, the phrases that point towards risk.

Cues live in config/safety.yaml in named groups, each at one level:

- `crisis` cues are clear risk when they are about the leader ("want to die", "kill myself",
  "can't keep myself safe", cutting or burning oneself);
- `check_in` cues come close to risk without confirming it (means and methods, preparation and
  goodbyes, burden and disappearance, passive wishes, hopelessness with finality, risk told in
  the past): the screen asks directly;
- `topic` cues name suicide or self-harm as a subject; the context decides whether it is the
  leader's, someone else's, or work talk.

Each group compiles to one regular expression over normalised clauses, matched as whole words.
`{name}` inserts a term from `terms`. Patterns are squeezed like the text (repeated letters read
as one), so they are written normally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.engine.safety.normalise import squeeze

#: What a cue means when it is about the leader. A topic cue's level comes from its context.
Level = Literal["crisis", "check_in", "topic"]
LEVELS: tuple[Level, ...] = ("crisis", "check_in", "topic")

_TERM = re.compile(r"\{([a-z_]+)\}")
_PATTERN_REPEATS = re.compile(r"(?<!\\)([a-z])\1+")
NEVER = re.compile(r"(?!)")


@dataclass(frozen=True)
class Cue:
    """One named group of phrases at one level, compiled."""

    name: str
    level: Level
    pattern: re.Pattern[str]


def whole_words(alternatives: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


def expand(pattern: str, terms: Mapping[str, str], *, where: str, problems: list[str]) -> str:
    """A pattern with its {terms} filled in and repeated letters squeezed."""

    def term(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            problems.append(f"{where}: unknown term {{{name}}}")
            return "(?!)"
        return f"(?:{terms[name]})"

    return _PATTERN_REPEATS.sub(r"\1", _TERM.sub(term, pattern))


def compile_cues(raw: Any, terms: Mapping[str, str], problems: list[str]) -> tuple[Cue, ...]:
    """Every cue group under `cues:`, level by level."""
    if not isinstance(raw, dict):
        problems.append("cues: expected crisis, check_in and topic, each a mapping of groups")
        return ()
    for level in sorted(set(raw) - set(LEVELS)):
        problems.append(f"cues: unknown level {level!r} (use {', '.join(LEVELS)})")
    found: list[Cue] = []
    for level in LEVELS:
        groups = raw.get(level)
        if not isinstance(groups, dict) or not groups:
            problems.append(f"cues.{level}: expected a mapping of named groups of patterns")
            continue
        for name, patterns in groups.items():
            where = f"cues.{level}.{name}"
            pattern = compile_patterns(patterns, terms, where=where, problems=problems)
            found.append(Cue(str(name), level, pattern))
    return tuple(found)


def compile_patterns(
    raw: Any, terms: Mapping[str, str], *, where: str, problems: list[str]
) -> re.Pattern[str]:
    """A list of patterns as one whole-word expression; each bad pattern is reported."""
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: expected a non-empty list of patterns")
        return NEVER
    parts = []
    for number, pattern in enumerate(raw, start=1):
        here = f"{where}, pattern {number}"
        if not isinstance(pattern, str) or not pattern.strip():
            problems.append(f"{here}: expected a pattern (text)")
            continue
        expanded = expand(pattern, terms, where=here, problems=problems)
        try:
            re.compile(expanded)
        except re.error as error:
            problems.append(f"{here}: not a valid pattern ({error}): {pattern}")
            continue
        parts.append(f"(?:{expanded})")
    return whole_words(parts) if parts else NEVER


def compile_words(raw: Any, *, name: str, problems: list[str]) -> re.Pattern[str]:
    """Alternatives separated by | (folded YAML is fine), as one whole-word expression."""
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{name}: expected alternatives separated by |")
        return NEVER
    items = [" ".join(item.split()) for item in raw.split("|")]
    expanded = _PATTERN_REPEATS.sub(r"\1", "|".join(item for item in items if item))
    try:
        return whole_words([expanded])
    except re.error as error:
        problems.append(f"{name}: not a valid pattern ({error})")
        return NEVER


def word_set(raw: Any, *, name: str, problems: list[str]) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(word, str) for word in raw):
        problems.append(f"{name}: expected a list of words")
        return frozenset()
    return frozenset(squeeze(word.lower()) for word in raw)


def word_map(raw: Any, *, name: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        problems.append(f"{name}: expected a mapping of words to what they stand for")
        return {}
    return {k.lower(): v.lower() for k, v in raw.items()}


def terms_of(raw: Any, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        problems.append("terms: expected a mapping of names to patterns")
        return {}
    return {str(name): value for name, value in raw.items()}


def confusables_of(raw: Any, problems: list[str]) -> dict[int, str]:
    if not isinstance(raw, dict):
        problems.append("confusables: expected a mapping of look-alike letters to letters")
        return {}
    table: dict[int, str] = {}
    for char, letter in raw.items():
        if not (isinstance(char, str) and len(char) == 1 and isinstance(letter, str)):
            problems.append(f"confusables: {char!r} should map one character to a letter")
            continue
        table[ord(char)] = letter
    return table
