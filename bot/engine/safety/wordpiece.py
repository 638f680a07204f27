"""Text to word pieces, as the second stage's sentence model was trained to read it.

The uncased BERT tokeniser (lower case, accents stripped, punctuation split off, then greedy
longest-match word pieces from `vocab.txt`), in plain Python so that the second stage needs no
tokeniser library. `vocab.txt` is the uncased BERT vocabulary (Apache-2.0) that the
MiniLM sentence models share.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

VOCAB_FILE = Path(__file__).with_name("vocab.txt")
#: The longest input the model reads, special pieces included.
MAX_PIECES = 128
#: A word longer than this is read as unknown (as BERT does).
_MAX_WORD = 100


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def basic_words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, accents stripped."""
    spaced: list[str] = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if char.isspace():
            spaced.append(" ")
        elif _is_cjk(code):
            spaced.append(f" {char} ")
        else:
            spaced.append(char)
    words: list[str] = []
    for token in "".join(spaced).split():
        plain = "".join(
            c
            for c in unicodedata.normalize("NFD", token.lower())
            if unicodedata.category(c) != "Mn"
        )
        current = ""
        for char in plain:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                    current = ""
                words.append(char)
            else:
                current += char
        if current:
            words.append(current)
    return words


@dataclass(frozen=True)
class WordPiece:
    """A vocabulary: word piece -> id."""

    ids: dict[str, int]

    @classmethod
    def load(cls, path: Path = VOCAB_FILE) -> WordPiece:
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls({line: number for number, line in enumerate(lines)})

    def pieces(self, word: str) -> Iterable[int]:
        unknown = self.ids["[UNK]"]
        if len(word) > _MAX_WORD:
            return [unknown]
        found: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            piece = None
            while start < end:
                candidate = word[start:end] if start == 0 else "##" + word[start:end]
                piece = self.ids.get(candidate)
                if piece is not None:
                    break
                end -= 1
            if piece is None:
                return [unknown]
            found.append(piece)
            start = end
        return found

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces... [SEP], at most `MAX_PIECES` in all."""
        body: list[int] = []
        for word in basic_words(text):
            body.extend(self.pieces(word))
            if len(body) >= MAX_PIECES - 2:
                break
        return [self.ids["[CLS]"], *body[: MAX_PIECES - 2], self.ids["[SEP]"]]
