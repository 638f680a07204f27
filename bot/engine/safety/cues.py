"""Layer 2 of the safety screen: cues, the phrases that point towards risk.

Cues live in config/safety.yaml in named groups, each at one level:

- `crisis` cues are clear risk when they are about the leader ("want to die", "kill myself",
  "can't keep myself safe", cutting or burning oneself);
- `check_in` cues come close to risk without confirming it (means and methods, preparation and
  goodbyes, burden and disappearance, passive wishes, hopelessness with finality, risk told in
  the past): the screen asks directly;
- `topic` cues name suicide or self-harm as a subject; the context decides whether it is the
  leader's, someone else's, or work talk;
- `signal` cues (optional) are weak on their own: an act of preparation ("wrote letters to the
  kids"), finality ("just in case", "won't need it"), a means named with a dwelling on it. Two
  different signal groups about the same person in one message count as a check-in.

Each group compiles to one regular expression over normalised clauses, matched as whole words.
`{name}` inserts a term from `terms`. Patterns are squeezed like the text (repeated letters read
as one), so they are written normally.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.engine.safety.normalise import squeeze

#: What a cue means when it is about the leader. A topic cue's level comes from its context.
Level = Literal["crisis", "check_in", "topic", "signal"]
LEVELS: tuple[Level, ...] = ("crisis", "check_in", "topic", "signal")
#: Levels a phrase file may leave out.
OPTIONAL_LEVELS: frozenset[Level] = frozenset({"signal"})

_TERM = re.compile(r"\{([a-z_]+)\}")
#: How deep terms may name other terms.
_TERM_DEPTH = 3
_PATTERN_REPEATS = re.compile(r"(?<!\\)([a-z])\1+")
NEVER = re.compile(r"(?!)")


#: The shortest literal worth checking for before running a pattern.
MIN_KEY = 2


@dataclass(frozen=True)
class Cue:
    """One named group of phrases at one level, compiled.

    Each phrase is compiled on its own with word beginnings of which every match must contain
    one (its keys, found by reading the pattern). A phrase runs only on messages that hold one
    of its keys, a set lookup, so a message costs a few scans, not one scan per phrase."""

    name: str
    level: Level
    parts: tuple[tuple[tuple[str, ...] | None, re.Pattern[str]], ...]

    def present(self, words: frozenset[str] | set[str]) -> tuple[re.Pattern[str], ...]:
        """The phrases that can match a message with these words (see `Cue`)."""
        return tuple(
            pattern
            for keys, pattern in self.parts
            if keys is None or any(key in words for key in keys)
        )

    def search(self, text: str) -> re.Match[str] | None:
        """The first match in a message's clauses (joined by `join`), if any."""
        for pattern in self.present(index_words(text)):
            match = pattern.search(text)
            if match is not None:
                return match
        return None


#: Between two clauses of a message, as the cue patterns see it.
CLAUSE_BREAK = " . "


def join(clauses: list[str]) -> str:
    """A message's clauses as cue patterns are matched against them: one text, clauses apart
    by " . " (which no pattern crosses) and a space at each end, so that every pattern starts
    with a literal space and the engine tries it only at word starts."""
    return f" {CLAUSE_BREAK.join(clauses)} "


_ANCHORS = re.compile(r"(?<![\\\[])([$^])")


def _anchored(pattern: str) -> str:
    """^ and $ (a clause's ends) as they read in joined clauses."""
    return _ANCHORS.sub(
        lambda m: "(?:(?<=^ )|(?<=\\. ))" if m.group(1) == "^" else "(?= $| \\.)", pattern
    )


def padded_words(pattern: str) -> re.Pattern[str]:
    """A pattern compiled for joined clauses: it matches whole words, starting at a space."""
    return re.compile(" (?:" + _anchored(pattern) + ")(?= )")


#: Keys are the first letters of words: a message is indexed by the first 2, 3 and 4
#: letters of each of its words.
KEY_LENGTHS = (2, 3, 4)


def index_words(text: str) -> set[str]:
    """What a message offers the keys: the first 2, 3 and 4 letters of each of its words."""
    words = set(text.split())
    return {word[:size] for word in words for size in KEY_LENGTHS}


def required_keys(pattern: str) -> tuple[str, ...] | None:
    """Word beginnings (see `KEY_LENGTHS`) of which every match of `pattern` contains at least
    one, if there are any: the longer the shortest of them, the better."""
    options = [req for req in _requirements(sre_parse.parse(pattern), True) if req]
    if not options:
        return None
    best = max(options, key=lambda req: (min(len(key) for key in req), -len(req)))
    return best if min(len(key) for key in best) >= MIN_KEY else None


#: More alternatives than this in one requirement are not worth checking one by one.
_MAX_KEYS = 64
_SPACE = ord(" ")
_ZERO_WIDTH = (
    sre_constants.AT,
    sre_constants.ASSERT,
    sre_constants.ASSERT_NOT,
)
_LONGEST = max(KEY_LENGTHS)


def _requirements(sequence: Any, boundary: bool) -> list[tuple[str, ...]]:
    """For a parsed pattern, requirements that hold for every match: each is a tuple of word
    beginnings, one of which the match contains. `boundary`: the sequence starts a word."""
    found: list[tuple[str, ...]] = []
    run = ""
    run_left = boundary
    items = list(sequence)
    for position, (op, av) in enumerate(items):
        if op is sre_constants.LITERAL:
            if not run:
                run_left = boundary
            run += chr(av)
            boundary = av == _SPACE
            following = items[position + 1] if position + 1 < len(items) else None
            if following is None or following[0] is not sre_constants.LITERAL:
                found += [(start,) for start in _word_starts(run, run_left)]
                if following is not None and following[0] is sre_constants.BRANCH:
                    last = run.split(" ")[-1]
                    if last and (run_left or " " in run):
                        found += _continued(last, following[1][1])
                run = ""
            continue
        if op is sre_constants.SUBPATTERN:
            found += _requirements(av[-1], boundary)
        elif op is sre_constants.BRANCH:
            either: list[str] = []
            for branch in av[1]:
                options = [req for req in _requirements(branch, boundary) if req]
                if not options:
                    either = []
                    break
                either += max(options, key=lambda req: min(len(key) for key in req))
            if either and len(either) <= _MAX_KEYS:
                found.append(tuple(dict.fromkeys(either)))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            if av[0] == av[1] == 1:
                found += _requirements(av[2], boundary)
            elif av[0] == 0 and av[1] == 1:
                # An optional word ("(really )?"): a word still starts after it.
                boundary = boundary and _ends_with_space(av[2])
                continue
        elif op in _ZERO_WIDTH:
            continue  # an anchor or a lookaround leaves the word boundary as it was
        boundary = _ends_with_space([(op, av)])
    return found


def _continued(start: str, branches: Any) -> list[tuple[str, ...]]:
    """A word begun in literal text and continued by one of several branches ("s" then "u..."
    or "elf..."): the word beginnings each branch makes."""
    either = [(start + lead)[:_LONGEST] for branch in branches for lead in _leads(branch)]
    if not either or min(len(word) for word in either) < MIN_KEY or len(either) > _MAX_KEYS:
        return []
    return [tuple(dict.fromkeys(either))]


def _leads(sequence: Any) -> list[str]:
    """The literal letters a parsed sequence can begin with, up to the key length."""
    lead = ""
    for op, av in sequence:
        if len(lead) >= _LONGEST:
            break
        if op is sre_constants.LITERAL and av != _SPACE:
            lead += chr(av)
            continue
        if op is sre_constants.BRANCH:
            return [lead + more for branch in av[1] for more in _leads(branch)]
        if op is sre_constants.SUBPATTERN:
            return [lead + more for more in _leads(av[-1])]
        break
    return [lead]


def _ends_with_space(sequence: Any) -> bool:
    """Whether every match of a parsed sequence ends with a space."""
    if not sequence:
        return False
    op, av = list(sequence)[-1]
    if op is sre_constants.LITERAL:
        return bool(av == _SPACE)
    if op is sre_constants.SUBPATTERN:
        return _ends_with_space(av[-1])
    if op is sre_constants.BRANCH:
        return all(_ends_with_space(branch) for branch in av[1])
    return False


def _word_starts(run: str, left: bool) -> list[str]:
    """The beginnings of the words that start inside a run of literal text."""
    words = run.split(" ")
    return [
        word[:_LONGEST]
        for number, word in enumerate(words)
        if len(word) >= MIN_KEY and (number > 0 or left)
    ]


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

    for _ in range(_TERM_DEPTH):  # a term may name another term ({method} holds {pills})
        if _TERM.search(pattern) is None:
            break
        pattern = _TERM.sub(term, pattern)
    return _PATTERN_REPEATS.sub(r"\1", pattern)


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
        if groups is None and level in OPTIONAL_LEVELS:
            continue
        if not isinstance(groups, dict) or not groups:
            problems.append(f"cues.{level}: expected a mapping of named groups of patterns")
            continue
        for name, patterns in groups.items():
            where = f"cues.{level}.{name}"
            parts = compile_parts(patterns, terms, where=where, problems=problems)
            if parts:
                found.append(Cue(str(name), level, parts))
    return tuple(found)


def compile_parts(
    raw: Any, terms: Mapping[str, str], *, where: str, problems: list[str]
) -> tuple[tuple[tuple[str, ...] | None, re.Pattern[str]], ...]:
    """Each pattern in a list compiled as whole words, with its key (see `Cue`)."""
    parts = []
    for here, pattern, expanded in _patterns(raw, terms, where=where, problems=problems):
        try:
            compiled = padded_words(expanded)
            key = required_keys(expanded)
        except re.error as error:
            problems.append(f"{here}: not a valid pattern ({error}): {pattern}")
            continue
        parts.append((key, compiled))
    return tuple(parts)


def _patterns(
    raw: Any, terms: Mapping[str, str], *, where: str, problems: list[str]
) -> Iterator[tuple[str, str, str]]:
    """(where, pattern, pattern with its terms expanded) for each pattern of a list; a list
    that is empty or not a list, and a pattern that is not text, are reported."""
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: expected a non-empty list of patterns")
        return
    for number, pattern in enumerate(raw, start=1):
        here = f"{where}, pattern {number}"
        if not isinstance(pattern, str) or not pattern.strip():
            problems.append(f"{here}: expected a pattern (text)")
            continue
        yield here, pattern, expand(pattern, terms, where=here, problems=problems)


@dataclass(frozen=True)
class Phrases:
    """A list of alternatives from the phrase file (first_person, professional, past...): one
    expression for short windows, and each alternative with its keys for whole messages."""

    pattern: re.Pattern[str]
    parts: tuple[tuple[tuple[str, ...] | None, re.Pattern[str]], ...] = ()

    def search(self, text: str, words: set[str] | None = None) -> re.Match[str] | None:
        """The first match; with `words` (see `index_words`), only alternatives that can match
        are tried, which keeps a long message cheap."""
        if words is None or not self.parts:
            return self.pattern.search(text)
        for keys, pattern in self.parts:
            if keys is None or any(key in words for key in keys):
                match = pattern.search(text)
                if match is not None:
                    return match
        return None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text)


def split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern ("a|(b|c)" -> ["a", "(b|c)"])."""
    found: list[str] = []
    depth = 0
    start = 0
    escaped = False
    in_class = False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            found.append(pattern[start:position])
            start = position + 1
    found.append(pattern[start:])
    return found


def compile_phrases(raw: Any, *, name: str, problems: list[str]) -> Phrases:
    """Like `compile_words`, keeping each alternative with its keys as well."""
    pattern = compile_words(raw, name=name, problems=problems)
    if pattern is NEVER or not isinstance(raw, str):
        return Phrases(pattern)
    items = [" ".join(item.split()) for item in raw.split("|")]
    expanded = _PATTERN_REPEATS.sub(r"\1", "|".join(item for item in items if item))
    parts = []
    for alternative in split_alternatives(expanded):
        if alternative:
            parts.append((required_keys(alternative), padded_words(alternative)))
    return Phrases(pattern, tuple(parts))


def compile_words(raw: Any, *, name: str, problems: list[str]) -> re.Pattern[str]:
    """Alternatives separated by | (folded YAML is fine), as one expression over padded text
    (see `join`)."""
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{name}: expected alternatives separated by |")
        return NEVER
    items = [" ".join(item.split()) for item in raw.split("|")]
    expanded = _PATTERN_REPEATS.sub(r"\1", "|".join(item for item in items if item))
    try:
        return padded_words(expanded)
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
