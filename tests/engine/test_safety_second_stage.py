"""The safety screen's second stage (bot/engine/safety/second_stage.py).

The tokeniser and the word piece heads are plain Python and always tested. Checking the heads
against the sentence model they were built from needs the `model` extra (installed with the
dev extras). What the second stage may do is asserted, not how well it does it: its figures on
the held-out split come from `python -m bench.safety_screen` (BENCHMARKS.md).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from bench import safety_head, safety_screen
from bot.engine.safety import screen as rules
from bot.engine.safety import second_stage
from bot.engine.safety.wordpiece import MAX_PIECES, WordPiece, basic_words


@pytest.fixture(scope="session")
def vocab() -> WordPiece:
    return WordPiece.load()


@pytest.fixture(scope="session")
def stage() -> second_stage.SecondStage:
    loaded = second_stage.load()
    assert loaded is not None, second_stage.unavailable_reason()  # the head file is in the repo
    return loaded


# ---------------------------------------------------------------------- tokeniser


def test_words_are_lower_cased_with_accents_and_punctuation_split_off() -> None:
    assert basic_words("Café, NAÏVE!\u200b\tok") == ["cafe", ",", "naive", "!", "ok"]


def test_pieces_are_the_uncased_bert_ones(vocab: WordPiece) -> None:
    # [CLS]=101 and [SEP]=102 in the uncased BERT vocabulary; "hello" 7592, "world" 2088.
    assert vocab.encode("Hello world") == [101, 7592, 2088, 102]
    pieces = vocab.encode("unaliving")
    assert len(pieces) > 3 and vocab.ids["[UNK]"] not in pieces  # split into word pieces


def test_long_text_is_cut_to_what_the_model_reads(vocab: WordPiece) -> None:
    pieces = vocab.encode("tired " * 500)
    assert len(pieces) == MAX_PIECES and pieces[-1] == vocab.ids["[SEP]"]
    assert vocab.encode("x" * 200) == [101, vocab.ids["[UNK]"], 102]


# ---------------------------------------------------------------------- the head


def test_the_head_is_small_and_says_how_it_was_chosen(vocab: WordPiece) -> None:
    data = json.loads(second_stage.HEAD_FILE.read_text(encoding="utf-8"))
    assert second_stage.HEAD_FILE.stat().st_size < 1_000_000
    assert len(data["pieces"]) == len(vocab.ids)
    assert data["trained_on"] == "tests/engine/safety_corpus/train.yaml"
    assert data["model_sha256"] == second_stage.MODEL_SHA256
    assert data["scale"] == second_stage.SCALE
    assert data["fold_block"] == safety_head.BLOCK and data["own_weight"] == safety_head.OWN_WEIGHT
    own = data["own_pieces"]
    assert own == sorted(set(own)) and own[0] >= 0 and own[-1] < len(vocab.ids)
    assert 0 < data["threshold"] < 1 and data["c"] in safety_head.CS
    assert data["cross_validation"]["flagged_that_should_not_be"] <= data["budget"]
    others = data["others"]
    assert len(others["pieces"]) == len(vocab.ids) and 0 < others["threshold"] < 1
    assert others["cross_validation"]["flagged_that_should_not_be"] <= others["budget"]
    assert data["pair_weight"] == safety_head.PAIR_WEIGHT
    for head in (data, others):
        assert set(head["pairs"]) == {str(gap) for gap in safety_head.GAPS}
        assert 0 < sum(map(len, head["pairs"].values())) <= data["own_pairs"]
    # What the build judges a change by: the rules and the stage together, cross-validated.
    combined = data["cross_validation"]["with_the_rules"]
    assert set(combined) == {
        "recall",
        "check_in_on_ordinary",
        "crisis_on_ordinary",
        "gentle_on_others",
    }
    assert set(data["cross_validation"]["with_the_rules_by_budget"]) >= {
        str(budget) for budget in safety_head.BUDGETS
    }


def test_a_message_scores_the_sum_of_its_pieces_over_the_root_of_their_number() -> None:
    head = second_stage.Head((20_000, -10_000, 0, 30_000), bias=-1.0, threshold=0.5)
    assert head.logit([]) == -1.0
    assert head.logit([0, 3]) == pytest.approx((2.0 + 3.0) / 2**0.5 - 1.0)
    assert head.logit([1, 1, 1, 1]) == pytest.approx(-4.0 / 2 - 1.0)
    assert 0.0 < head.score([1] * 50) < head.score([0]) < 1.0


def test_pairs_of_word_pieces_add_their_own_scores() -> None:
    size = 4
    head = second_stage.Head(
        (20_000, -10_000, 0, 30_000),
        bias=-1.0,
        threshold=0.5,
        pairs={1: {0 * size + 3: 5_000}, 2: {0 * size + 1: -2_000}},
    )
    assert head.logit([0, 3]) == pytest.approx((2.0 + 3.0 + 0.5) / 2**0.5 - 1.0)
    assert head.logit([3, 0]) == pytest.approx((2.0 + 3.0) / 2**0.5 - 1.0)  # in order only
    assert head.logit([0, 2, 1]) == pytest.approx((2.0 - 1.0 - 0.2) / 3**0.5 - 1.0)


def test_pairs_are_read_from_the_head_file() -> None:
    data = {
        "pieces": [0, 0, 0, 0],
        "bias": 0.0,
        "threshold": 0.5,
        "pairs": {"1": {"0 3": 7, "2 2": -4}, "2": {}},
    }
    head = second_stage.Head.from_dict(data, size=4)
    assert head.pairs == {1: {3: 7, 10: -4}}
    data["pairs"] = {"1": {"0 4": 1}}
    with pytest.raises(second_stage.SecondStageUnavailable, match="out of range"):
        second_stage.Head.from_dict(data, size=4)


def test_an_unreadable_head_file_is_a_clear_reason(tmp_path: Path) -> None:
    broken = tmp_path / "second_stage.json"
    broken.write_text('{"pieces": [1, 2], "bias": 0, "threshold": 0.5}', encoding="utf-8")
    with pytest.raises(second_stage.SecondStageUnavailable, match="2 word piece scores"):
        second_stage.Head.load(broken, size=30522)
    with pytest.raises(second_stage.SecondStageUnavailable, match="cannot be read"):
        second_stage.Head.load(tmp_path / "missing.json", size=30522)


def test_the_threshold_lets_through_no_more_than_the_budget() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1]
    cut = safety_head.threshold(scores, ordinary=100, budget=0.03)
    assert sum(score >= cut for score in scores) == 3


def test_logistic_regression_separates_what_can_be_separated() -> None:
    np = pytest.importorskip("numpy")
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    weights, bias = safety_head.fit(x, y, c=10.0)
    assert all((x @ weights + bias > 0) == (y > 0))


def test_folds_are_fixed_balanced_and_keep_neighbouring_ids_together() -> None:
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    first, again = safety_head.folds(messages), safety_head.folds(messages)
    assert first == again
    risk_per_fold = [
        sum(1 for m, f in zip(messages, first, strict=True) if f == k and m.label == "risk")
        for k in range(safety_head.FOLDS)
    ]
    assert max(risk_per_fold) - min(risk_per_fold) <= 0.1 * len(messages) / safety_head.FOLDS
    # Messages written one after another (near-paraphrases) are scored by a head that saw none
    # of them: a block of ids of one kind is in one fold.
    fold_of_block: dict[tuple[str, int], set[int]] = {}
    for message, fold in zip(messages, first, strict=True):
        kind, _, number = message.id.rpartition("-")
        fold_of_block.setdefault((kind, int(number) // safety_head.BLOCK), set()).add(fold)
    assert all(len(found) == 1 for found in fold_of_block.values())
    assert len(set(first)) == safety_head.FOLDS


def test_an_id_without_a_number_is_a_block_of_its_own() -> None:
    messages = [
        safety_screen.Message(f"note-{n}", "ordinary", "ordinary_plain", "fine") for n in "abcde"
    ]
    assert sorted(safety_head.folds(messages)) == list(range(safety_head.FOLDS))


def test_a_word_piece_in_enough_messages_gets_a_weight_of_its_own() -> None:
    np = pytest.importorskip("numpy")
    pieces = [[5, 7, 7], [7, 9], [5, 7], [9]]
    assert safety_head.own_pieces(pieces, at_least=2) == [5, 7, 9]
    assert safety_head.own_pieces(pieces, at_least=3) == [7]  # counted once a message
    assert safety_head.own_pieces(pieces, at_least=1, most=2) == [5, 7]  # the most frequent
    vectors = np.array([[float(i), 1.0] for i in range(10)])
    x = safety_head.features(vectors, [[5, 7, 7], []], [7])
    own = safety_head.OWN_WEIGHT
    assert x[0] == pytest.approx(np.array([19.0, 3.0, 2 * own]) / 3**0.5)
    assert not x[1].any()
    # Folded into the table: the vectors through the head, plus the piece's own weight.
    table = safety_head.fold_table(vectors, np.array([0.5, 0.0, 2.0]), [7])
    assert table[5] == 2.5 * second_stage.SCALE
    assert table[7] == (3.5 + 2.0 * own) * second_stage.SCALE


def test_a_pair_in_enough_messages_is_a_unit_of_its_own() -> None:
    np = pytest.importorskip("numpy")
    pieces = [[5, 7, 9], [5, 7], [7, 5, 7]]
    # Next to each other (gap 1) and with one between (gap 2), counted once a message.
    assert safety_head.pairs_of([5, 7, 9]) == [(1, 5, 7), (1, 7, 9), (2, 5, 9)]
    assert safety_head.own_pairs(pieces, at_least=3) == [(1, 5, 7)]
    assert safety_head.own_pairs(pieces, at_least=2) == [(1, 5, 7)]
    assert safety_head.own_pairs(pieces, at_least=1, most=2) == [(1, 5, 7), (1, 7, 5)]
    vectors = np.array([[float(i), 1.0] for i in range(10)])
    x = safety_head.features(vectors, [[5, 7, 5, 7]], [7], [(1, 5, 7), (2, 5, 5)])
    own, pair = safety_head.OWN_WEIGHT, safety_head.PAIR_WEIGHT
    assert x[0] == pytest.approx(np.array([24.0, 4.0, 2 * own, 2 * pair, pair]) / 2.0)
    weights = np.array([0.0, 0.0, 0.0, 0.25, -0.00001])
    tables = safety_head.fold_pairs(weights, 2, [7], [(1, 5, 7), (2, 5, 5)])
    assert tables == {"1": {"5 7": round(0.25 * pair * second_stage.SCALE)}, "2": {}}


def test_the_fit_from_dot_products_is_the_penalised_regressions_optimum() -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 60))  # more features than messages
    y = (x[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(float)
    weights, bias = safety_head.fit(x, y, c=10.0)
    alpha, again = safety_head.fit_kernel(x @ x.T, y, c=10.0)
    assert np.allclose(x.T @ alpha, weights) and bias == pytest.approx(again)
    # The gradient of the penalised, weighted loss is zero there.
    p = 1.0 / (1.0 + np.exp(-(x @ weights + bias)))
    w = np.where(y > 0, 40 / (2 * y.sum()), 40 / (2 * (40 - y.sum())))
    assert np.abs(x.T @ (w * (p - y)) + weights / 10.0).max() < 1e-6
    assert abs(float((w * (p - y)).sum())) < 1e-6


# ---------------------------------------------------------------------- without the model


def test_without_the_model_the_screen_is_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(second_stage, "_loaded", None)
    monkeypatch.setattr(second_stage, "_unavailable", "not installed (test)")
    assert not second_stage.available()
    for text in ("I want to die", "Good day on the ward", "everyone's better off without me"):
        assert second_stage.screen(text) == rules(text)


def test_a_missing_model_package_is_a_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(second_stage, "MODEL_PACKAGE", "no-such-model-package")
    with pytest.raises(second_stage.SecondStageUnavailable, match="reflect-bot\\[model\\]"):
        second_stage.model_path()


def test_a_different_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    other = tmp_path / "model.onnx"
    other.write_bytes(b"not the model")
    monkeypatch.setattr(second_stage, "model_path", lambda: other)
    with pytest.raises(second_stage.SecondStageUnavailable, match="not the file"):
        safety_head.piece_vectors()


# ---------------------------------------------------------------------- with the model


def test_the_model_only_adds_a_check_in_or_the_gentle_card_and_never_changes_what_the_rules_found(
    stage: second_stage.SecondStage,
) -> None:
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    added = 0
    for message in messages[::3]:
        found, combined = rules(message.text), second_stage.screen(message.text)
        if found is not None and found.outcome != "others":
            assert combined == found and combined is not None
            assert combined.cues == found.cues
        elif found is not None:
            # The gentle card stays, unless the first head hears the leader's own risk too.
            assert combined is not None
            if combined.outcome == "check_in":
                assert stage.flags(message.text)
                assert combined.cues == (*found.cues, second_stage.CUE)
            else:
                assert combined == found and combined.cues == found.cues
                assert not stage.flags(message.text) or len(message.text.split()) < 4
        elif combined is not None:
            assert combined.outcome in {"check_in", "others"}  # never the crisis card
            assert combined.cues == (second_stage.CUE,)
            added += 1
    assert added  # it does something on the split it was trained on


def test_the_leaders_own_risk_beside_someone_elses_asks_the_check_in_question(
    stage: second_stage.SecondStage,
) -> None:
    """Where the rules found only someone else at risk, the first head still listens for the
    leader's own risk; on the training split it turns some gentle cards into the check-in
    question, and only on messages whose writer is at risk."""
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    turned = []
    for message in messages:
        found = rules(message.text)
        if found is None or found.outcome != "others":
            continue
        combined = second_stage.screen(message.text)
        assert combined is not None and combined.outcome in {"others", "check_in"}
        if combined.outcome == "check_in":
            turned.append(message.label)
    assert turned and set(turned) == {"risk"}


def test_the_leaders_own_risk_is_asked_before_the_gentle_card(
    stage: second_stage.SecondStage,
) -> None:
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    for message in messages[::5]:
        found = stage.read(message.text)
        if stage.flags(message.text):
            assert found == "check_in"
        else:
            assert found in {None, "others"}


def test_a_paraphrase_from_the_training_split_scores_above_ordinary_talk(
    stage: second_stage.SecondStage,
) -> None:
    messages = safety_screen.load_messages(safety_screen.SPLITS["train"])
    risk = [stage.score(m.text) for m in messages if m.label == "risk"]
    ordinary = [stage.score(m.text) for m in messages if m.kind == "ordinary_plain"]
    assert statistics.median(risk) > stage.head.threshold > statistics.median(ordinary)


def test_scores_are_the_same_each_time_and_between_0_and_1(
    stage: second_stage.SecondStage,
) -> None:
    first = stage.score("Long shift. Rota fell apart.")
    assert first == stage.score("Long shift. Rota fell apart.")
    assert 0.0 <= stage.score("") <= 1.0 and 0.0 <= first <= 1.0


def test_the_word_piece_scores_are_the_sentence_models_read_through_the_head(
    stage: second_stage.SecondStage,
) -> None:
    """The committed table is what the installed sentence model gives, except for the word
    pieces with a weight of their own: the model's vectors of a sample of the other word
    pieces, regressed on their committed scores, fit them almost exactly; those of word pieces
    with their own weight do not."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("onnxruntime")
    data = json.loads(second_stage.HEAD_FILE.read_text(encoding="utf-8"))
    own = set(data["own_pieces"])
    sample = [i for i in range(1000, len(stage.head.pieces), 47) if i not in own]
    vectors = safety_head.piece_vectors(sample)
    scores = np.asarray(stage.head.pieces, dtype=np.float64)[sample] / second_stage.SCALE
    design = np.hstack([vectors, np.ones((len(sample), 1))])
    solved, *_ = np.linalg.lstsq(design, scores, rcond=None)
    assert float(np.abs(design @ solved - scores).max()) < 1e-3
    shuffled = np.random.default_rng(0).permutation(scores)
    unsolved, *_ = np.linalg.lstsq(design, shuffled, rcond=None)
    assert float(np.abs(design @ unsolved - shuffled).max()) > 0.1
    with_own = sorted(own)[::10]
    own_scores = np.asarray(stage.head.pieces, dtype=np.float64)[with_own] / second_stage.SCALE
    own_design = np.hstack([safety_head.piece_vectors(with_own), np.ones((len(with_own), 1))])
    assert float(np.abs(own_design @ solved - own_scores).max()) > 0.1


@pytest.mark.bench
def test_retraining_from_the_training_split_gives_the_committed_head(
    stage: second_stage.SecondStage,
) -> None:
    committed = json.loads(second_stage.HEAD_FILE.read_text(encoding="utf-8"))
    retrained = safety_head.train(write=False)
    assert retrained["train_sha256"] == committed["train_sha256"], "train.yaml changed: retrain"
    assert retrained["threshold"] == pytest.approx(committed["threshold"], abs=1e-4)
    assert retrained["pieces"] == pytest.approx(committed["pieces"], abs=2)
    assert retrained["others"]["pieces"] == pytest.approx(committed["others"]["pieces"], abs=2)
    for new, old in ((retrained, committed), (retrained["others"], committed["others"])):
        for gap, pairs in old["pairs"].items():
            again = new["pairs"][gap]
            assert all(abs(again.get(k, 0) - pairs.get(k, 0)) <= 2 for k in {*again, *pairs})
