"""Train the safety screen's second stage (its logistic-regression head) from the training split.

    python -m bench.safety_head            # train, cross-validate, print what it would write
    python -m bench.safety_head --write    # ... and rewrite bot/engine/safety/second_stage.json

Only `tests/engine/safety_corpus/train.yaml` is read: the held-out split is never used to
train or to choose anything here. Deterministic: the same split, model file and settings give
the same head.

- Target: `risk` messages against the rest (`ordinary` and `others`).
- Model: L2-regularised logistic regression (Newton's method, classes weighted to balance),
  over the unit-length sentence vectors of the installed sentence model.
- Threshold, by five-fold cross-validation on the training split: each message is scored by a
  head trained without its fold; the threshold is the lowest at which no more than `BUDGET` of
  the ordinary messages would get a check-in question they do not already get from the rules.
  `BUDGET` is half of issue 9's aim for check-ins on ordinary messages (8%), leaving the rest for
  the rules and for sets written by other people.
- A second head, `others` against the rest, the same way: its threshold lets the gentle card
  through for no more than `OTHERS_BUDGET` of the messages (left alone by the rules) that are
  not about someone else at risk.
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

#: Inverse regularisation strength (as scikit-learn's C).
C = 1.0
#: Share of ordinary messages the second stage may add a check-in question to (in CV).
BUDGET = 0.04
#: Share of the messages not about someone else that the second head may give the gentle card.
OTHERS_BUDGET = 0.03
FOLDS = 5
SEED = 20261202


def fit(x: Any, y: Any, *, c: float = C, steps: int = 50) -> tuple[Any, float]:
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


def folds(messages: Sequence[Message]) -> list[int]:
    """A fold for each message, stratified by label, fixed by SEED."""
    order = list(range(len(messages)))
    random.Random(SEED).shuffle(order)
    assigned = [0] * len(messages)
    counters: dict[str, int] = {}
    for index in order:
        label = messages[index].label
        assigned[index] = counters.get(label, 0) % FOLDS
        counters[label] = counters.get(label, 0) + 1
    return assigned


def threshold(scores: Sequence[float], *, ordinary: int, budget: float = BUDGET) -> float:
    """The lowest threshold at which at most `budget` of `ordinary` messages are flagged, from
    the cross-validated scores of the ordinary messages the rules left alone."""
    allowed = int(budget * ordinary)
    ranked = sorted(scores, reverse=True)
    if allowed >= len(ranked):
        return 0.5
    # Strictly above the first score not allowed through.
    return float(ranked[allowed]) + 1e-6


def _head(
    x: Any,
    y: Any,
    fold: Any,
    *,
    allowed_on: list[int],
    of: int,
    budget: float,
) -> tuple[dict[str, Any], Any]:
    """One head: cross-validated scores, a threshold from `allowed_on` (the messages that must
    not be flagged and that the rules left alone: at most `budget` of `of` messages may be
    flagged), then weights fitted on the whole split."""
    import numpy as np

    cv = np.zeros(len(y))
    for k in range(FOLDS):
        weights, bias = fit(x[fold != k], y[fold != k])
        cv[fold == k] = 1.0 / (1.0 + np.exp(-(x[fold == k] @ weights + bias)))
    scores = [float(cv[i]) for i in allowed_on]
    cut = threshold(scores, ordinary=of, budget=budget)
    weights, bias = fit(x, y)
    head = {
        "budget": budget,
        "cross_validation": {
            "recall_of_the_head_alone": round(float((cv[y > 0] >= cut).mean()), 4),
            "flagged_that_should_not_be": round(sum(score >= cut for score in scores) / of, 4),
        },
        "threshold": round(cut, 6),
        "bias": round(bias, 6),
        "weights": [round(float(w), 6) for w in weights],
    }
    return head, cv


def train(*, write: bool = False) -> dict[str, Any]:
    import numpy as np

    from bot.engine.safety import screen as rules
    from bot.engine.safety import second_stage

    try:  # the head being trained is not read: start from an empty one
        stage = second_stage.SecondStage(head=second_stage.Head((0.0,), 0.0, 1.0))
    except second_stage.SecondStageUnavailable as error:
        raise SystemExit(f"error: {error}") from error
    messages = load_messages(SPLITS["train"])
    x = np.stack([stage.embed(m.text) for m in messages]).astype(np.float64)
    fold = np.array(folds(messages))
    alone = [rules(m.text) is None for m in messages]
    # The leader's own risk: the threshold keeps check-ins on ordinary messages within BUDGET.
    risk, _ = _head(
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
    others, _ = _head(
        x,
        np.array([1.0 if m.label == "others" else 0.0 for m in messages]),
        fold,
        allowed_on=[i for i, m in enumerate(messages) if m.label != "others" and alone[i]],
        of=sum(m.label != "others" for m in messages),
        budget=OTHERS_BUDGET,
    )
    source = SPLITS["train"].read_bytes()
    head = {
        "model": second_stage.MODEL_FILE.rsplit("/", 1)[-1],
        "model_sha256": second_stage.MODEL_SHA256,
        "trained_on": "tests/engine/safety_corpus/train.yaml",
        "train_sha256": hashlib.sha256(source).hexdigest(),
        "c": C,
        "folds": FOLDS,
        "seed": SEED,
        **risk,
        "others": others,
    }
    if write:
        second_stage.HEAD_FILE.write_text(json.dumps(head, indent=1) + "\n", encoding="utf-8")
    return head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.safety_head",
        description="Train the safety screen's second stage from the training split.",
    )
    parser.add_argument("--write", action="store_true", help="rewrite second_stage.json")
    args = parser.parse_args(argv)
    head = train(write=args.write)
    shown = {k: v for k, v in head.items() if k != "weights"}
    shown["others"] = {k: v for k, v in head["others"].items() if k != "weights"}
    print(json.dumps(shown, indent=1))
    if args.write:
        print("wrote bot/engine/safety/second_stage.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
