"""The labelled corpus (tests/engine/safety_corpus/) as a regression test.

Only the training split is asserted here: the rules were written on it, so this says that a
change has not broken what already worked. The honest figures come from the held-out split,
which is measured by `python -m bench.safety_screen` (BENCHMARKS.md), never asserted in a test
and never read while writing rules.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

import pytest

from bench import safety_screen
from bench.safety_screen import AIMS

#: Messages numbered from this in each kind belong to the training-only batch (README.md).
SECOND_BATCH = 101
#: ...and from this, to the second training-only batch (README.md).
THIRD_BATCH = 201
#: ...and from this, to the third training-only batch (README.md), which no rule was written for;
FOURTH_BATCH = 301
#: ...and from this, to the fourth (README.md), the same (ids from 501 to 799 are held out).
FIFTH_BATCH = 801
#: ...and from this, to the fifth (README.md), the same, with the two validation batches (ids
#: from 2201 and 2301); ids from 1001 to 1099, 1401 to 1599, 1901 to 2199 and from 2401 to
#: 2499 are held out.
SIXTH_BATCH = 1101
#: ...and from this, to the sixth (README.md), the same (ids from 2901 to 3299 are held out)...
SEVENTH_BATCH = 2501
#: ...and from this, to the seventh (README.md), the same, with two more validation batches
#: (ids from 4001 and 4101); ids from 3701 to 3999 and from 4201 are held out.
EIGHTH_BATCH = 3301
#: Floors for the training-only batch, raised as the rules learn from it.
SECOND_BATCH_FLOORS = {
    "recall": 0.95,
    "crisis_on_ordinary": 0.03,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.90,
}


#: Floors for the second training-only batch, raised as the rules learn from it.
THIRD_BATCH_FLOORS = {
    "recall": 0.90,
    "crisis_on_ordinary": 0.03,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.90,
}


#: Floors for the third training-only batch: the rules were not written for it (it trains the
#: second stage only), so these are the rules' figures at first sight, kept from falling. Its
#: crisis card on ordinary messages (4.0%, hyperbole that names a method and a past that is
#: over) is above the aim, as the corpus README reports.
FOURTH_BATCH_FLOORS = {
    "recall": 0.50,
    "crisis_on_ordinary": 0.05,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.60,
}

#: Floors for the fourth training-only batch, the same way: the rules' figures at first sight.
FIFTH_BATCH_FLOORS = {
    "recall": 0.50,
    "crisis_on_ordinary": 0.03,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.60,
}


#: Floors for the fifth training-only batch (six writers), the same way. At first sight the
#: rules showed the crisis card to 3.2% of its ordinary messages (method-naming jokes and a
#: past that is over), above the aim, as the corpus README reports.
SIXTH_BATCH_FLOORS = {
    "recall": 0.50,
    "crisis_on_ordinary": 0.04,
    "check_in_on_ordinary": 0.09,
    "gentle_on_others": 0.58,
}


#: Floors for the sixth training-only batch (four writers), the same way: the rules' figures at
#: first sight (recall 41.4%, crisis card 1.4%, check-in 6.5%, gentle card 52.0%). These writers
#: aimed at the screen's weak points ("me too", relatives, quiet risk, hard ordinary messages),
#: so the rules find less of their risk than of any batch before.
SEVENTH_BATCH_FLOORS = {
    "recall": 0.38,
    "crisis_on_ordinary": 0.03,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.48,
}

#: Floors for the seventh training-only batch (four more writers), the same way: the rules'
#: figures at first sight (recall 43.8%, crisis card 1.5%, check-in 6.1%, gentle card 60.6%).
EIGHTH_BATCH_FLOORS = {
    "recall": 0.40,
    "crisis_on_ordinary": 0.03,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.56,
}


#: Where each batch after the first starts: batch n + 2 starts at BATCH_STARTS[n].
BATCH_STARTS = (
    SECOND_BATCH,
    THIRD_BATCH,
    FOURTH_BATCH,
    FIFTH_BATCH,
    SIXTH_BATCH,
    SEVENTH_BATCH,
    EIGHTH_BATCH,
)


def _batch(message: safety_screen.Message) -> int:
    """The batch of a training message (1 for ids below SECOND_BATCH)."""
    return 1 + bisect_right(BATCH_STARTS, int(message.id.rsplit("-", 1)[1]))


def _assert_within(batch: int, limits: dict[str, float], *, at_least: int) -> None:
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    chosen = [m for m in messages if _batch(m) == batch]
    assert len(chosen) >= at_least
    figures = safety_screen.run(chosen, rounds=1, memory=False).figures()
    assert figures["recall"] >= limits["recall"]
    assert figures["crisis_on_ordinary"] <= limits["crisis_on_ordinary"]
    assert figures["check_in_on_ordinary"] <= limits["check_in_on_ordinary"]
    assert figures["gentle_on_others"] >= limits["gentle_on_others"]


def test_train_split_regression_stays_within_the_aims() -> None:
    _assert_within(1, AIMS, at_least=600)


def test_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(2, SECOND_BATCH_FLOORS, at_least=500)


def test_second_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(3, THIRD_BATCH_FLOORS, at_least=600)


def test_third_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(4, FOURTH_BATCH_FLOORS, at_least=600)


def test_fourth_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(5, FIFTH_BATCH_FLOORS, at_least=600)


def test_fifth_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(6, SIXTH_BATCH_FLOORS, at_least=2500)


def test_sixth_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(7, SEVENTH_BATCH_FLOORS, at_least=1500)


def test_seventh_training_only_batch_stays_above_its_floors() -> None:
    _assert_within(8, EIGHTH_BATCH_FLOORS, at_least=1500)


def test_corpus_ids_are_unique_across_both_splits() -> None:
    ids = [
        m.id for split in safety_screen.SPLITS.values() for m in safety_screen.load_messages(split)
    ]
    assert len(ids) == len(set(ids))


def test_every_corpus_message_has_a_known_label_and_kind() -> None:
    for split in safety_screen.SPLITS.values():
        for message in safety_screen.load_messages(split):
            assert message.label in safety_screen.LABELS
            assert message.kind and message.text.strip()


def test_a_labelled_set_with_a_bad_entry_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "set.yaml"
    bad.write_text("- {id: a, label: risky, kind: x, text: hello}\n", encoding="utf-8")
    with pytest.raises(safety_screen.LabelledSetError, match=r"set\.yaml: entry 1 has label"):
        safety_screen.load_messages(bad)
    assert safety_screen.main([str(bad), "--no-memory", "--rounds", "1"]) == 2
    assert safety_screen.main([str(tmp_path / "absent.yaml")]) == 2


def test_any_labelled_set_can_be_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "- {id: r1, label: risk, kind: direct, text: I want to die}\n"
        "- {id: o1, label: ordinary, kind: plain, text: Good day on the ward}\n"
        "- {id: p1, label: others, kind: pupil, text: A pupil said she wants to die}\n",
        encoding="utf-8",
    )
    assert safety_screen.main([str(mine), "--no-memory", "--rounds", "1", "--wrong"]) == 0
    out = capsys.readouterr().out
    assert "| direct | risk | 1 |" in out and "(none)" in out


def test_update_rewrites_only_the_safety_section(tmp_path: Path) -> None:
    page = tmp_path / "BENCHMARKS.md"
    page.write_text("# Benchmarks\n\n## 1. Other\n\nkept\n\n## Notes\n\nnotes\n", encoding="utf-8")
    safety_screen.update(page, "first")
    safety_screen.update(page, "second")
    text = page.read_text(encoding="utf-8")
    assert "kept" in text and "notes" in text and "second" in text and "first" not in text
    assert text.index("## 1. Other") < text.index(safety_screen.SECTION) < text.index("## Notes")
