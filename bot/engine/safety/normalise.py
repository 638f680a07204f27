"""Layer 1 of the safety screen: read text the way the cue patterns expect it.

What a person types becomes a list of `Clause`s: plain lower-case words separated by one
space, with

- Unicode folded (NFKC, accents and zero-width characters removed, look-alike letters from
  other scripts read as the Latin letter they imitate), apostrophes removed ("can't" -> "cant");
- digits or @/$ inside words read as letters ("k1ll", "$uicidal"), letters spelt out joined
  ("s u i c i d e"), and a word with letters starred out read as the one risk word it can
  stand for ("s*icidal", "k*ll"; a word that could stand for none, or for two, is left alone);
- repeated letters squeezed to one ("soooo" -> "so", "kill" -> "kil"): patterns are squeezed
  the same way, so they are written normally;
- text-speak spelt out from a word list ("wanna" -> "want to", "kms" -> "kill myself"), dropped
  g's restored ("endin" -> "ending") and one-edit typos of risk words corrected ("suicdal" ->
  "suicidal") against a word list, leaving real words that happen to be one edit away alone;
- clauses split at . ! ? ; new lines and "but" (an ellipsis is a pause, not an end), and words
  inside quotation marks kept apart and marked as quoted, so that "a pupil said 'kms'" is read
  as someone else's words.

Every pattern here runs in linear time: no nested quantifiers, bounded lookarounds only.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

_APOSTROPHES = re.compile(r"['’‘ʼ`´′‛]")
_DOUBLE_QUOTES = re.compile(r"[“”„‟«»″]")
#: A quoted span: "..." anywhere, or '...' opened and closed at word edges (apostrophes inside
#: words, as in can't, do not end it). Bounded, and each alternative consumes a different
#: character, so there is nothing to backtrack over.
_QUOTED = re.compile(
    r'"([^"\n]{1,400})"'
    r"|(?<![a-z0-9])'((?:[^'\n]|(?<=[a-z0-9])'(?=[a-z])){1,400})'(?![a-z0-9])"
)
_LEET = re.compile(r"(?<=[a-z])[0134@$5](?=[a-z])|(?<![a-z0-9])[@$](?=[a-z])")
_LEET_LETTERS = str.maketrans("0134@$5", "oieaass")
#: A run of letters, digits, stars and hashes: a word that may have letters starred out.
_MAYBE_MASKED = re.compile(r"[a-z0-9*#]+")
#: Longest word read for starred-out letters (the longest risk word, with room to spare).
_MASKED_LONGEST = 24
_MASK_RUN = re.compile(r"[*#]+")
_SPELLED_OUT = re.compile(r"(?<![a-z0-9])(?:[a-z][ .\-_*]{1,2}){3,}[a-z](?![a-z0-9])")
_NOT_LETTER = re.compile(r"[^a-z]")
_ELLIPSIS = re.compile(r"\.{2,}|…")
_CLAUSE_END = re.compile(r"[.!?;\n\r]+|(?<![a-z0-9])but(?![a-z0-9])")
_NOT_A_WORD_OR_END = re.compile(r"[^a-z0-9.]+")
_REPEATS = re.compile(r"([a-z])\1+")
#: Dropped g's: "endin", "killin", "dyin" (a consonant or y before the -in).
_DROPPED_G = re.compile(r"[a-z]{2,}[b-df-hj-np-tv-z]in")


def _invisible() -> re.Pattern[str]:
    """Combining marks (accents after NFKD) and format characters (zero-width spaces, soft
    hyphens, direction marks), as one character class over the Basic Multilingual Plane."""
    ranges: list[str] = []
    start = None
    for code in range(0xA0, 0x10000):
        char = chr(code)
        hidden = unicodedata.combining(char) or unicodedata.category(char) == "Cf"
        if hidden and start is None:
            start = code
        elif not hidden and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = None
    return re.compile("[" + "".join(ranges) + r"\U000e0000-\U000e007f\U0001d165-\U0001d1ad]")


_INVISIBLE = _invisible()

#: How many quotations in one message are read as someone else's words.
MAX_QUOTES = 64
#: Opens a clause of quoted words while the message is read (a word no one writes).
_QUOTE_MARK = "zqxjv"

#: Shortest word that a typo is corrected into, and shortest typo that is corrected.
MIN_TYPO_LENGTH = 6
#: How many respelt words are remembered (a bound, so no message can grow the memory).
_SEEN_LIMIT = 8192


def squeeze(text: str) -> str:
    """Repeated letters read as one: "soooo" -> "so", "kill" -> "kil"."""
    return _REPEATS.sub(r"\1", text)


class Clause(NamedTuple):
    """One clause of a message, as the cue patterns read it."""

    text: str
    #: Inside quotation marks: someone's words being reported.
    quoted: bool = False


@dataclass(frozen=True)
class Reader:
    """Normalisation settings from the phrase file; `clauses` does the reading."""

    confusables: Mapping[int, str]
    #: Squeezed word -> what it stands for (already squeezed), e.g. "wana" -> "want to".
    text_speak: Mapping[str, str]
    #: Squeezed risk words that one-edit typos are corrected into.
    typo_targets: frozenset[str]
    #: Real words one edit from a risk word, left alone ("homeless", "tables").
    typo_exceptions: frozenset[str]
    #: Words ending in consonant + "in" that are words already ("aspirin", "heroin").
    dropped_g_exceptions: frozenset[str]
    #: Squeezed risk words a word with letters starred out may stand for (besides the typo
    #: targets): short ones, such as "kil" and "die".
    masked_targets: frozenset[str] = frozenset()
    _seen: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def clauses(self, text: str) -> list[Clause]:
        """The message as clauses of plain words (see the module docstring)."""
        folded = self.fold(text)
        # Quoted words become clauses of their own, each opened by a marker word, so that the
        # whole message is read in one pass however many quotations it holds.
        parts: list[str] = []
        position = 0
        for number, match in enumerate(_QUOTED.finditer(folded)):
            if number >= MAX_QUOTES:
                break  # the rest is read as the leader's own words: the safer reading
            quoted = _ELLIPSIS.sub(" ", match.group(1) or match.group(2) or "")
            parts += [folded[position : match.start()], "\n", _QUOTE_MARK, " "]
            parts += [_CLAUSE_END.sub(f"\n{_QUOTE_MARK} ", quoted), "\n"]
            position = match.end()
        parts.append(folded[position:])
        found = []
        for clause in self._plain("".join(parts)):
            words = clause.split(" ", 1)
            if words[0] != _QUOTE_MARK:
                found.append(Clause(clause))
            elif len(words) > 1:
                found.append(Clause(words[1], quoted=True))
        return found

    def fold(self, text: str) -> str:
        """Unicode folded to plain lower-case Latin, quotes kept, other apostrophes unified."""
        if text.isascii():
            return text.lower()
        text = unicodedata.normalize("NFKC", text).casefold().translate(self.confusables)
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKD", text))
        return _APOSTROPHES.sub("'", _DOUBLE_QUOTES.sub('"', text))

    def _plain(self, text: str) -> list[str]:
        text = text.replace("'", "").replace('"', " ")
        text = _LEET.sub(lambda m: m.group().translate(_LEET_LETTERS), text)
        if "*" in text or "#" in text:
            text = _MAYBE_MASKED.sub(self._unmask, text)
        text = _SPELLED_OUT.sub(lambda m: _NOT_LETTER.sub("", m.group()), text)
        text = _NOT_A_WORD_OR_END.sub(" ", _CLAUSE_END.sub(".", _ELLIPSIS.sub(" ", text)))
        seen = self._seen.get
        word = self._word
        read = " ".join([seen(w) or word(w) for w in text.replace(".", " . ").split()])
        return [part.strip() for part in read.split(".") if part.strip()]

    def _word(self, raw: str) -> str:
        """One word as the patterns read it (remembered: most words come again)."""
        if len(self._seen) >= _SEEN_LIMIT:
            self._seen.clear()
        word = squeeze(raw)
        spoken = self.text_speak.get(word)
        self._seen[raw] = found = spoken if spoken is not None else self._respell(word)
        return found

    def _respell(self, word: str) -> str:
        if (
            len(word) >= 5
            and word not in self.dropped_g_exceptions
            and _DROPPED_G.fullmatch(word) is not None
        ):
            word = squeeze(word + "g")
            return self.text_speak.get(word, word)
        if (
            len(word) < MIN_TYPO_LENGTH - 1
            or word in self.typo_targets
            or word in self.typo_exceptions
        ):
            return word
        for target in self._targets_by_letter.get(word[0], ()):
            if one_edit(word, target):
                return target
        return word

    def _unmask(self, match: re.Match[str]) -> str:
        """The one risk word a starred-out word can stand for, or the word as typed."""
        typed = match.group()
        inner = typed.strip("*#")
        if (
            len(typed) > _MASKED_LONGEST
            or inner.isalpha()
            or not inner.replace("*", "").replace("#", "").isalpha()
        ):
            return typed  # no star, a digit, or stars only at the edges: not a masked word
        masked = squeeze(typed)
        runs = _MASK_RUN.findall(masked)
        if sum(char.isalpha() for char in masked) < 2 or len(runs) > 2 or max(map(len, runs)) > 3:
            return typed
        pattern = re.compile(
            "".join(
                "[a-z]{1,3}" if part.startswith(("*", "#")) else re.escape(part)
                for part in re.split(r"([*#]+)", masked)
                if part
            )
        )
        found = {word for word in self._maskable if pattern.fullmatch(word)}
        return found.pop() if len(found) == 1 else typed

    @functools.cached_property
    def _maskable(self) -> frozenset[str]:
        return self.typo_targets | self.masked_targets

    @functools.cached_property
    def _targets_by_letter(self) -> dict[str, tuple[str, ...]]:
        by_letter: dict[str, list[str]] = {}
        for target in sorted(self.typo_targets):
            by_letter.setdefault(target[0], []).append(target)
        return {letter: tuple(targets) for letter, targets in by_letter.items()}


def one_edit(word: str, target: str) -> bool:
    """Whether `word` is `target` with one letter added, dropped, changed or two swapped."""
    if word == target:
        return False
    length, other = len(word), len(target)
    if abs(length - other) > 1:
        return False
    start = 0
    while start < min(length, other) and word[start] == target[start]:
        start += 1
    end_word, end_target = length, other
    while end_word > start and end_target > start and word[end_word - 1] == target[end_target - 1]:
        end_word -= 1
        end_target -= 1
    changed_word, changed_target = end_word - start, end_target - start
    if changed_word <= 1 and changed_target <= 1:
        return True
    return (
        changed_word == changed_target == 2
        and word[start] == target[start + 1]
        and word[start + 1] == target[start]
    )


def build_reader(
    *,
    confusables: Mapping[int, str],
    text_speak: Mapping[str, str],
    typo_targets: Iterable[str],
    typo_exceptions: Iterable[str],
    dropped_g_exceptions: Iterable[str],
    masked_targets: Iterable[str] = (),
) -> Reader:
    """A reader with every word list squeezed the way the text will be."""
    targets = frozenset(squeeze(word) for word in typo_targets if len(word) >= MIN_TYPO_LENGTH)
    return Reader(
        confusables=dict(confusables),
        text_speak={squeeze(k): " ".join(squeeze(v).split()) for k, v in text_speak.items()},
        typo_targets=targets,
        typo_exceptions=frozenset(squeeze(word) for word in typo_exceptions),
        dropped_g_exceptions=frozenset(squeeze(word) for word in dropped_g_exceptions),
        masked_targets=frozenset(squeeze(word) for word in masked_targets),
    )
