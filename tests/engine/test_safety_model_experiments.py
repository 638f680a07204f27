"""The measure bench/safety_model_experiments.py compares second-stage candidates by: rules +
model recall at a budget of check-ins added to ordinary messages. Toy scores, no training."""

from __future__ import annotations

import pytest

from bench.safety_model_experiments import BUDGETS, Data, evaluate
from bench.safety_screen import Message

np = pytest.importorskip("numpy")


def _data(labels: list[str], rules: list[str], readable: list[bool]) -> Data:
    messages = [Message(f"k-{i}", label, "k", "") for i, label in enumerate(labels)]
    return Data(
        messages,
        [[] for _ in messages],
        np.array([1.0 if label == "risk" else 0.0 for label in labels]),
        np.zeros(len(labels), dtype=int),
        rules,
        np.array(readable),
    )


def test_the_model_counts_only_where_the_rules_left_a_risk_message_to_it() -> None:
    # 50 ordinary messages scored 0..49 (all readable, none flagged by the rules); 4 risk:
    # one the rules find, one the stage may not read, two readable with high and low scores.
    labels = ["ordinary"] * 50 + ["risk"] * 4
    rules = ["none"] * 50 + ["crisis", "none", "none", "none"]
    readable = [True] * 50 + [False, False, True, True]
    scores = np.array([float(i) for i in range(50)] + [0.0, 1000.0, 1000.0, -1.0])
    found = evaluate(scores, _data(labels, rules, readable))
    assert found["rules_only"] == 0.25
    assert found["rules+@4"] == 0.5  # the rules' one and the readable high score
    for budget in BUDGETS:
        tag = f"{round(budget * 100)}"
        assert found[f"added@{tag}"] <= budget
    # Head alone ignores the rules and what may be read: both high scores count.
    assert found["alone@4"] == 0.5
