"""The labelled corpus (tests/engine/safety_corpus/) as a regression test.

Only the training split is asserted here: the rules were written on it, so this says that a
change has not broken what already worked. The honest figures come from the held-out split,
which is measured by `python -m bench.safety_screen` (BENCHMARKS.md), never asserted in a test
and never read while writing rules.
"""

from __future__ import annotations

from bench import safety_screen
from bench.safety_screen import AIMS


def test_train_split_regression_stays_within_the_aims() -> None:
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    assert len(messages) >= 600
    result = safety_screen.run(messages, rounds=1, memory=False)
    figures = result.figures()
    assert figures["recall"] >= AIMS["recall"]
    assert figures["crisis_on_ordinary"] <= AIMS["crisis_on_ordinary"]
    assert figures["check_in_on_ordinary"] <= AIMS["check_in_on_ordinary"]
    assert figures["gentle_on_others"] >= AIMS["gentle_on_others"]


def test_every_corpus_message_has_a_known_label_and_kind() -> None:
    for split in safety_screen.SPLITS.values():
        for message in safety_screen.load_messages(split):
            assert message.label in safety_screen.LABELS
            assert message.kind and message.text.strip()
