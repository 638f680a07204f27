"""The safety screen: every piece of text a leader sends is checked here first.

It looks for language about suicide, self-harm or not being able to keep safe, and tells apart a
risk to the leader ("self") from a leader talking about a patient's, pupil's or colleague's
self-harm or death as part of their work ("others"). No model and no network: the phrase lists
live in config/safety.yaml, where they can be reviewed, and are compiled into a few regular
expressions once, at import. The rules for reading a match are described at the top of that
file; tests/engine/safety_cases.yaml lists what is caught, what is not, and the known misses
and false alarms.

The screen favours recall: a false alarm costs a leader a moment (the support card and one
"that's not what I meant"); a miss could cost far more. It never logs or keeps the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from bot._builtin import file as builtin_file

#: What the screen found: a clear risk to the leader ("crisis"), words close to risk that the
#: screen cannot confirm and should ask about directly ("check_in"), or someone else at risk
#: (a patient, pupil, colleague or relative: "others").
Outcome = Literal["crisis", "check_in", "others"]
#: Whom a matched phrase is about.
_Subject = Literal["self", "others"]

#: The phrase lists that ship with Reflect.
DEFAULT_FILE = builtin_file("config", "safety.yaml")

#: How many words before a match are searched for the person it is about.
SUBJECT_WINDOW = 6
#: How many filler words may stand between a negator and what it negates.
MAX_FILLERS = 4
#: How many words before a negator are searched for a hedge ("not sure I won't...").
HEDGE_WINDOW = 3


@dataclass(frozen=True)
class Concern:
    """What the screen found; see `Outcome`."""

    outcome: Outcome


class SafetyConfigError(ValueError):
    """The phrase file cannot be used; the message lists every problem."""


_GROUPS = ("self", "risky", "topic", "others")
_WORD_PATTERNS = ("first_person", "third_party", "work_context")
_WORD_LISTS = ("event_words", "negators", "fillers", "hedges")
_KNOWN_KEYS = frozenset(
    {"version", "last_reviewed", "terms", "confusables", *_GROUPS, *_WORD_PATTERNS, *_WORD_LISTS}
)

_APOSTROPHES = re.compile(r"['’‘ʼ`´′‛]")
_LEET = re.compile(r"(?<=[a-z])[0134@$5](?=[a-z])|(?<![a-z0-9])[@$](?=[a-z])")
_LEET_LETTERS = str.maketrans("0134@$5", "oieaass")
_SPELLED_OUT = re.compile(r"(?<![a-z0-9])(?:[a-z][ .\-_*]{1,2}){3,}[a-z](?![a-z0-9])")
#: A clause ends at . ! ? ; or a new line, and at "but"; an ellipsis is a pause, not an end.
_ELLIPSIS = re.compile(r"\.{2,}")
_CLAUSE_END = re.compile(r"[.!?;\n\r]+|(?<![a-z0-9])but(?![a-z0-9])")
_NOT_A_WORD = re.compile(r"[^a-z0-9.]+")
_REPEATS = re.compile(r"([a-z])\1+")
_PATTERN_REPEATS = re.compile(r"(?<!\\)([a-z])\1+")
_TERM = re.compile(r"\{([a-z_]+)\}")


def _squeeze(text: str) -> str:
    return _REPEATS.sub(r"\1", text)


@dataclass(frozen=True)
class Screen:
    """A compiled set of phrase lists. Build one with `load_screen`."""

    confusables: dict[int, str]
    groups: dict[str, re.Pattern[str]]
    first_person: re.Pattern[str]
    third_party: re.Pattern[str]
    work_context: re.Pattern[str]
    event_words: frozenset[str]
    negators: frozenset[str]
    fillers: frozenset[str]
    hedges: frozenset[str]

    # ------------------------------------------------------------------ reading the text

    def normalise(self, text: str) -> str:
        """The text as the patterns see it: clauses of plain lower-case words, split by " . "."""
        return " . ".join(self.clauses(text))

    def clauses(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).casefold().translate(self.confusables)
        text = "".join(
            char
            for char in unicodedata.normalize("NFKD", text)
            if not unicodedata.combining(char) and unicodedata.category(char) != "Cf"
        )
        text = _APOSTROPHES.sub("", text)
        text = _LEET.sub(lambda m: m.group().translate(_LEET_LETTERS), text)
        text = _SPELLED_OUT.sub(lambda m: re.sub(r"[^a-z]", "", m.group()), text)
        text = _CLAUSE_END.sub(".", _ELLIPSIS.sub(" ", text))
        text = _squeeze(_NOT_A_WORD.sub(" ", text))
        return [" ".join(part.split()) for part in text.split(".") if part.strip()]

    # ------------------------------------------------------------------ the screen

    def screen(self, text: str) -> Concern | None:
        """Check one message. Never logs or keeps the text."""
        clauses = self.clauses(text)
        at_work: bool | None = None
        others = False
        for clause in clauses:
            for match in self.groups["self"].finditer(clause):
                if not self._negated(clause[: match.start()]):
                    return Concern("crisis")
            for match in self.groups["risky"].finditer(clause):
                before = clause[: match.start()]
                if self._negated(before):
                    continue
                if self._subject(before) == "others":
                    others = True
                else:
                    return Concern("crisis")
            for match in self.groups["others"].finditer(clause):
                if not self._negated(clause[: match.start()]):
                    others = True
            for match in self.groups["topic"].finditer(clause):
                before = clause[: match.start()]
                if self._negated(before):
                    continue
                if at_work is None:
                    at_work = any(self.work_context.search(part) for part in clauses)
                if self._topic_about(before, clause[match.end() :], at_work=at_work) == "self":
                    return Concern("crisis")
                others = True
        return Concern("others") if others else None

    def _negated(self, before: str) -> bool:
        """Whether a negator governs what follows `before` ("I'd never ...")."""
        words = before.split()
        index = len(words) - 1
        skipped = 0
        while index >= 0 and words[index] in self.fillers and skipped < MAX_FILLERS:
            index -= 1
            skipped += 1
        if index < 0 or words[index] not in self.negators:
            return False
        hedged = words[max(0, index - HEDGE_WINDOW) : index]
        return not any(word in self.hedges for word in hedged)

    def _subject(self, before: str) -> _Subject | None:
        """Who the nearest person named just before a match is: the leader or someone else."""
        window = " ".join(before.split()[-SUBJECT_WINDOW:])
        leader = max((m.end() for m in self.first_person.finditer(window)), default=-1)
        someone = max((m.end() for m in self.third_party.finditer(window)), default=-1)
        if leader < 0 and someone < 0:
            return None
        return "self" if leader > someone else "others"

    def _topic_about(self, before: str, after: str, *, at_work: bool) -> _Subject:
        words = before.split()
        if words and words[-1] in self.event_words:
            return "others"  # "a suicide", "the overdose": an event, not a thought
        subject = self._subject(before)
        if subject is not None:
            return subject
        if self.third_party.search(after) or at_work:
            return "others"
        return "self"


# ---------------------------------------------------------------------- loading


def load_screen(path: Path) -> Screen:
    """Read and compile a phrase file, reporting every problem at once."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SafetyConfigError(f"{path}: cannot read the safety phrase file ({error}).") from error
    except yaml.YAMLError as error:
        raise SafetyConfigError(f"{path}: not valid YAML ({error}).") from error
    return compile_screen(data, source=str(path))


def compile_screen(data: Any, *, source: str = "safety phrases") -> Screen:
    """Compile phrase lists already read from YAML (see config/safety.yaml for the format)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise SafetyConfigError(f"{source}: expected a mapping of phrase lists.")
    for key in sorted(set(data) - _KNOWN_KEYS):
        problems.append(f"unknown key {key!r}")
    terms = _terms(data.get("terms", {}), problems)
    groups = {
        name: _compile_group(data.get(name), terms, name=name, problems=problems)
        for name in _GROUPS
    }
    words = {
        name: _compile_words(data.get(name), name=name, problems=problems)
        for name in _WORD_PATTERNS
    }
    lists = {name: _word_set(data.get(name), name=name, problems=problems) for name in _WORD_LISTS}
    confusables = _confusables(data.get("confusables", {}), problems)
    if problems:
        raise SafetyConfigError(
            f"{source}: the safety phrase file has problems:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    return Screen(
        confusables=confusables,
        groups=groups,
        first_person=words["first_person"],
        third_party=words["third_party"],
        work_context=words["work_context"],
        event_words=lists["event_words"],
        negators=lists["negators"],
        fillers=lists["fillers"],
        hedges=lists["hedges"],
    )


_NEVER = re.compile(r"(?!)")


def _terms(raw: Any, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        problems.append("terms: expected a mapping of names to patterns")
        return {}
    return {str(name): value for name, value in raw.items()}


def _expand(pattern: str, terms: dict[str, str], *, where: str, problems: list[str]) -> str:
    def term(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            problems.append(f"{where}: unknown term {{{name}}}")
            return "(?!)"
        return f"(?:{terms[name]})"

    return _PATTERN_REPEATS.sub(r"\1", _TERM.sub(term, pattern))


def _whole_words(alternatives: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


def _compile_group(
    raw: Any, terms: dict[str, str], *, name: str, problems: list[str]
) -> re.Pattern[str]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{name}: expected a non-empty list of patterns")
        return _NEVER
    parts = []
    for number, pattern in enumerate(raw, start=1):
        where = f"{name}, pattern {number}"
        if not isinstance(pattern, str) or not pattern.strip():
            problems.append(f"{where}: expected a pattern (text)")
            continue
        expanded = _expand(pattern, terms, where=where, problems=problems)
        try:
            re.compile(expanded)
        except re.error as error:
            problems.append(f"{where}: not a valid pattern ({error}): {pattern}")
            continue
        parts.append(f"(?:{expanded})")
    return _whole_words(parts) if parts else _NEVER


def _compile_words(raw: Any, *, name: str, problems: list[str]) -> re.Pattern[str]:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{name}: expected alternatives separated by |")
        return _NEVER
    # Folded YAML joins lines with spaces: tidy each alternative to single spaces inside.
    items = [" ".join(item.split()) for item in raw.split("|")]
    expanded = _PATTERN_REPEATS.sub(r"\1", "|".join(item for item in items if item))
    try:
        return _whole_words([expanded])
    except re.error as error:
        problems.append(f"{name}: not a valid pattern ({error})")
        return _NEVER


def _word_set(raw: Any, *, name: str, problems: list[str]) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(word, str) for word in raw):
        problems.append(f"{name}: expected a list of words")
        return frozenset()
    return frozenset(_squeeze(word.lower()) for word in raw)


def _confusables(raw: Any, problems: list[str]) -> dict[int, str]:
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


_DEFAULT = load_screen(DEFAULT_FILE)


def screen(text: str) -> Concern | None:
    """Check one message against the phrase lists that ship with Reflect."""
    return _DEFAULT.screen(text)


def normalise(text: str) -> str:
    """Text as the screen reads it (lower case, no apostrophes, repeated letters squeezed)."""
    return _DEFAULT.normalise(text)
