"""The safety screen: what it catches, what it leaves, and where it is known to be wrong.

The phrasings live in tests/engine/safety_cases.yaml so they can be reviewed as a list.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import safety
from bot.engine.safety import SafetyConfigError, compile_screen, load_screen, screen

HERE = Path(__file__).resolve().parent
CASES: dict[str, Any] = yaml.safe_load((HERE / "safety_cases.yaml").read_text(encoding="utf-8"))


def _about(text: str) -> str:
    concern = screen(text)
    if concern is None:
        return "none"
    return "self" if concern.outcome == "crisis" else concern.outcome


def _flatten(groups: dict[str, list[str]]) -> list[Any]:
    return [
        pytest.param(text, id=f"{group}: {text[:40]}")
        for group, texts in groups.items()
        for text in texts
    ]


@pytest.mark.parametrize("text", _flatten(CASES["self"]))
def test_risk_to_the_leader_gets_the_crisis_card(text: str) -> None:
    assert _about(text) == "self"


@pytest.mark.parametrize("text", CASES["others"], ids=lambda t: t[:40])
def test_others_met_at_work_get_the_gentler_card(text: str) -> None:
    assert _about(text) == "others"


@pytest.mark.parametrize("text", _flatten(CASES["none"]))
def test_ordinary_words_and_statements_of_safety_pass(text: str) -> None:
    assert _about(text) == "none"


@pytest.mark.parametrize(
    "case", CASES["known_misses"] + CASES["known_false_alarms"], ids=lambda c: c["text"][:40]
)
def test_known_limits_behave_as_documented(case: dict[str, str]) -> None:
    """If this fails because the screen got it right, move the case to its proper list."""
    assert case["screen"] != case["should"], "a documented limit must differ from the ideal"
    assert case["why"].strip()
    assert _about(case["text"]) == case["screen"]


def test_the_case_lists_are_substantial() -> None:
    self_cases = sum(len(texts) for texts in CASES["self"].values())
    assert self_cases >= 100
    assert len(CASES["others"]) >= 20
    assert len(CASES["known_misses"]) >= 3 and len(CASES["known_false_alarms"]) >= 3


# ---------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("I CAN’T go on", "i cant go on"),
        ("Ｉ ｗａｎｔ", "i want"),
        ("kіll", "kil"),  # Cyrillic і
        ("k\u200bill", "kil"),
        ("suïcide", "suicide"),
        ("soooo   tired\t\tnow", "so tired now"),
        ("self-harm", "self harm"),
        ("s u i c i d e", "suicide"),
        ("k1ll mys3lf", "kil myself"),
        ("Tired. But fine!", "tired . fine"),
        ("I want to... stop", "i want to stop"),
    ],
)
def test_text_is_normalised_before_matching(text: str, reads: str) -> None:
    assert safety.normalise(text) == reads


def test_a_zero_width_space_or_shouting_changes_nothing() -> None:
    for text in ["I want to kill myself", "I can't go on", "a pupil disclosed self-harm today"]:
        expected = _about(text)
        assert _about(text.upper()) == expected
        assert _about(text.replace(" ", " \u200b")) == expected
        assert _about(text.replace("'", "’")) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_at_all_is_screened_without_error(text: str) -> None:
    result = screen(text)
    assert result is None or result.outcome in {"crisis", "check_in", "others"}


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(" .,!?'’-"), max_size=50))
def test_punctuation_around_a_direct_statement_does_not_hide_it(noise: str) -> None:
    assert _about(f"{noise}I want to kill myself{noise}") == "self"


def test_a_very_long_message_is_screened_whole() -> None:
    long_text = "A long shift on the ward, and a hard meeting with the family. " * 600
    assert screen(long_text) is None
    assert _about(long_text + " I can't go on.") == "self"


def test_the_screen_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    screen("I want to kill myself")
    screen("a pupil disclosed self-harm today")
    assert caplog.records == []


# ---------------------------------------------------------------------- the phrase file


def _minimal() -> dict[str, Any]:
    return {
        "terms": {"me": "myself|me"},
        "self": ["kill {me}"],
        "risky": ["wants? to die"],
        "topic": ["suicide"],
        "others": ["kill herself"],
        "first_person": "i|me",
        "third_party": "she|pupil",
        "work_context": "ward",
        "event_words": ["a"],
        "negators": ["never"],
        "fillers": ["would"],
        "hedges": ["sure"],
        "confusables": {"і": "i"},
    }


def test_a_minimal_phrase_file_compiles_and_works() -> None:
    custom = compile_screen(_minimal())
    assert custom.screen("I would never kill myself") is None
    assert custom.screen("kіll me") is not None
    assert custom.screen("a pupil said she wants to die") == safety.Concern("others")
    assert custom.screen("suicide") == safety.Concern("crisis")
    assert custom.screen("suicide on the ward") == safety.Concern("others")


def test_every_problem_in_the_phrase_file_is_reported_at_once() -> None:
    data = _minimal()
    data["self"] = ["kill {nobody}", "(unclosed"]
    data["risky"] = []
    data["negators"] = "never"
    data["colour"] = "blue"
    with pytest.raises(SafetyConfigError) as error:
        compile_screen(data, source="my-safety.yaml")
    message = str(error.value)
    assert "my-safety.yaml" in message
    assert "self, pattern 1: unknown term {nobody}" in message
    assert "self, pattern 2: not a valid pattern" in message
    assert "risky: expected a non-empty list" in message
    assert "negators: expected a list of words" in message
    assert "unknown key 'colour'" in message


def test_a_missing_or_broken_phrase_file_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SafetyConfigError, match="cannot read the safety phrase file"):
        load_screen(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("self: [unclosed\n", encoding="utf-8")
    with pytest.raises(SafetyConfigError, match="not valid YAML"):
        load_screen(broken)
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- one\n", encoding="utf-8")
    with pytest.raises(SafetyConfigError, match="expected a mapping"):
        load_screen(not_a_mapping)


def _all_case_texts() -> list[str]:
    texts = [
        text for group in ("self", "none") for texts in CASES[group].values() for text in texts
    ]
    texts += CASES["others"]
    return texts + [case["text"] for case in CASES["known_misses"] + CASES["known_false_alarms"]]


SHIPPED: dict[str, Any] = yaml.safe_load(safety.DEFAULT_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("group", "pattern"),
    [
        (group, pattern)
        for group in ("self", "risky", "topic", "others")
        for pattern in SHIPPED[group]
    ],
    ids=lambda value: str(value)[:30],
)
def test_every_pattern_has_an_example_among_the_cases(group: str, pattern: str) -> None:
    """So a reviewer can see what each pattern is for, and a broken pattern shows up."""
    alone = compile_screen({**SHIPPED, group: [pattern]})
    texts = _all_case_texts()
    assert any(alone.groups[group].search(clause) for t in texts for clause in alone.clauses(t)), (
        f"add a case to safety_cases.yaml that this {group} pattern catches"
    )


def test_the_shipped_phrase_file_loads() -> None:
    shipped = load_screen(safety.DEFAULT_FILE)
    assert shipped.screen("I can't go on") == safety.Concern("crisis")


# ---------------------------------------------------------------------- speed (make bench)


@pytest.mark.bench
def test_screening_an_ordinary_message_takes_well_under_a_millisecond() -> None:
    message = "Long day. The ward round overran and I had a hard talk with a family."
    rounds = 5_000
    started = time.perf_counter()
    for _ in range(rounds):
        screen(message)
    per_message = (time.perf_counter() - started) / rounds
    assert per_message < 0.001


# ---------------------------------------------------------------------- combining clauses


@pytest.mark.parametrize("text", CASES["self"]["indirect"], ids=lambda t: t[:40])
def test_a_statement_of_safety_does_not_cancel_what_follows(text: str) -> None:
    assert _about(f"I'm not suicidal, but {text}") == "self"
    assert _about(f"I would never hurt myself. {text}") == "self"


@pytest.mark.parametrize("text", CASES["self"]["direct"][:10], ids=lambda t: t[:40])
def test_risk_to_the_leader_outweighs_talk_of_others(text: str) -> None:
    assert _about(f"A pupil disclosed self-harm today. {text}") == "self"
    assert _about(f"{text}. We also lost a patient to suicide.") == "self"
