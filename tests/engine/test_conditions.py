"""The condition language: precedence, `in`, `none`, and readable errors. Never Python eval."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.conditions import ConditionError, compared, evaluate, names, parse


@pytest.mark.parametrize(
    ("expression", "answers", "expected"),
    [
        ("energy <= 2", {"energy": 2}, True),
        ("energy <= 2", {"energy": 3}, False),
        ("energy<2", {"energy": 1}, True),
        ("energy > -1", {"energy": 0}, True),
        ("energy >= 2.5", {"energy": 3}, True),
        ("focus == 'staff'", {"focus": "staff"}, True),
        ('focus != "staff"', {"focus": "self"}, True),
        ("energy == 3", {"energy": "3"}, False),  # a number is not text
        ("done == true", {"done": True}, True),
        ("done == false", {"done": False}, True),
    ],
)
def test_comparisons(expression: str, answers: dict[str, Any], expected: bool) -> None:
    assert evaluate(expression, answers) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # and binds tighter than or: true or (false and false)
        ("a == 1 or b == 1 and c == 1", True),
        ("(a == 1 or b == 1) and c == 1", False),
        # not binds tighter than and: (not false) and true
        ("not b == 1 and a == 1", True),
        ("not (a == 1 and b == 0)", False),
        ("not not a == 1", True),
        ("a == 1 and not b == 1 and not c == 1", True),
    ],
)
def test_precedence_is_not_then_and_then_or(expression: str, expected: bool) -> None:
    assert evaluate(expression, {"a": 1, "b": 0, "c": 0}) is expected


@pytest.mark.parametrize(
    ("expression", "answers", "expected"),
    [
        ("mood in ['low', 'flat']", {"mood": "low"}, True),
        ("mood in ['low', 'flat']", {"mood": "good"}, False),
        ("mood not in ['low', 'flat']", {"mood": "good"}, True),
        ('"stuck" in feelings', {"feelings": ["tired", "stuck"]}, True),
        ('"stuck" not in feelings', {"feelings": ["tired"]}, True),
        ('"stuck" in note', {"note": "I feel stuck today"}, True),  # text: a part of it
        ("energy in [1, 2]", {"energy": 2}, True),
        ("energy in [1, 2,]", {"energy": 3}, False),
        ("energy in []", {"energy": 1}, False),
        ("3 in note", {"note": "text"}, False),  # cannot be inside: false, not an error
    ],
)
def test_in_and_not_in(expression: str, answers: dict[str, Any], expected: bool) -> None:
    assert evaluate(expression, answers) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("energy <= 2", False),
        ("energy > 2", False),
        ("energy >= 0", False),
        ("energy < 100", False),
        ("energy == none", True),
        ("energy != none", False),
        ("energy in [1, 2]", False),
        ("energy not in [1, 2]", True),
        ('"stuck" in feelings', False),
        ('"stuck" not in feelings', True),
        ("not energy", True),
        ("energy", False),
    ],
)
def test_an_unanswered_or_skipped_step_is_none_and_never_an_error(
    expression: str, expected: bool
) -> None:
    assert evaluate(expression, {}) is expected
    assert evaluate(expression, {"energy": None, "feelings": None}) is expected


def test_mismatched_types_compare_false_rather_than_fail() -> None:
    assert evaluate("mood < 3", {"mood": "low"}) is False
    assert evaluate("mood >= 'a'", {"mood": 4}) is False


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("energy <=", "ends too soon"),
        ("energy <= 2 2", "unexpected '2'"),
        ("(energy <= 2", "ends too soon"),
        ("energy <= 2)", "unexpected ')'"),
        ("energy = 2", "cannot read '= 2'"),
        ("energy not 2", "expected 'in'"),
        ("mood in ['low' 'flat']", "expected ',' or ']'"),
        ("a < b < c", "unexpected '<'"),
        ("and", "unexpected 'and'"),
        ("energy <= 2 && mood", "cannot read '&& mood'"),
        ("__import__('os').system('x')", ".system('x')\" at character 17"),
        ("mood == 'unclosed", "cannot read"),
    ],
)
def test_what_cannot_be_read_says_why(expression: str, reason: str) -> None:
    with pytest.raises(ConditionError) as raised:
        parse(expression)
    assert reason in str(raised.value)


def test_names_are_the_steps_a_condition_reads() -> None:
    assert names('a <= 2 and (b in ["x", c] or not d) and e == none') == {"a", "b", "c", "d", "e"}
    assert names("true or false") == set()


_ANSWER = st.one_of(
    st.none(),
    st.integers(-5, 10),
    st.text(max_size=5),
    st.lists(st.sampled_from(["low", "stuck", "ok"]), max_size=3),
    st.booleans(),
)


# Timing is not what these test: no deadline, no "too slow" check on a busy machine.
_RELAXED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_RELAXED
@given(answers=st.dictionaries(st.sampled_from(["a", "b", "mood"]), _ANSWER))
def test_any_answers_give_true_or_false_never_an_exception(answers: dict[str, Any]) -> None:
    for expression in (
        "a <= 2 or b > 1",
        "mood in ['low', 'flat'] and not a == none",
        '"stuck" in mood or a >= b',
        "a != b and mood not in [1, 'x']",
    ):
        assert evaluate(expression, answers) in (True, False)


@_RELAXED
@given(st.text(alphabet="ab <=>!()[],'\"0123456789.-_ ornotin", max_size=30))
def test_any_text_parses_or_raises_a_condition_error(expression: str) -> None:
    with contextlib.suppress(ConditionError):
        parse(expression)


def test_compared_lists_each_literal_an_answer_is_compared_with() -> None:
    assert compared('mood in ["low", "flat"] and not ("stuck" in feelings) or energy <= 2') == [
        ("mood", "low"),
        ("mood", "flat"),
        ("feelings", "stuck"),
        ("energy", 2),
    ]
    assert compared("a == b") == []
