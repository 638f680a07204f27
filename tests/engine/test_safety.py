"""The safety screen, layer by layer: normalisation, cues, context, and the outcome.

The phrasings live in tests/engine/safety_cases.yaml so they can be reviewed as a list. Tests
assert on outcomes and cue names, never on English copy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import safety
from bot.engine.safety import SafetyConfigError, compile_screen, load_screen, screen
from bot.engine.safety.cues import join, required_keys
from bot.engine.safety.normalise import one_edit
from tests.engine.config_files import assert_bad_files_are_clear_errors

HERE = Path(__file__).resolve().parent
CASES: dict[str, Any] = yaml.safe_load((HERE / "safety_cases.yaml").read_text(encoding="utf-8"))
SHIPPED_SCREEN = safety.default_screen()


def _outcome(text: str) -> str:
    concern = screen(text)
    return "none" if concern is None else concern.outcome


def _flatten(groups: dict[str, list[str]]) -> list[Any]:
    return [
        pytest.param(text, id=f"{group}: {text[:40]}")
        for group, texts in groups.items()
        for text in texts
    ]


# ---------------------------------------------------------------------- outcomes


@pytest.mark.parametrize("text", _flatten(CASES["crisis"]))
def test_clear_risk_to_the_leader_gets_the_crisis_card(text: str) -> None:
    assert _outcome(text) == "crisis"


@pytest.mark.parametrize("text", _flatten(CASES["risk"]))
def test_risk_or_words_close_to_it_get_the_card_or_the_check_in(text: str) -> None:
    assert _outcome(text) in {"crisis", "check_in"}


@pytest.mark.parametrize("text", CASES["others"], ids=lambda t: t[:40])
def test_others_at_risk_get_the_gentler_card(text: str) -> None:
    assert _outcome(text) == "others"


@pytest.mark.parametrize("text", _flatten(CASES["none"]))
def test_ordinary_words_work_talk_and_statements_of_safety_pass(text: str) -> None:
    assert _outcome(text) == "none"


@pytest.mark.parametrize("text", CASES["quoted"], ids=lambda t: t[:40])
def test_someone_elses_quoted_words_never_get_the_leaders_card(text: str) -> None:
    assert _outcome(text) in {"others", "none"}


@pytest.mark.parametrize(
    "case", CASES["known_misses"] + CASES["known_false_alarms"], ids=lambda c: c["text"][:40]
)
def test_known_limits_behave_as_documented(case: dict[str, str]) -> None:
    """If this fails because the screen got it right, move the case to its proper list."""
    right = {"risk": {"crisis", "check_in"}, "others": {"others"}, "none": {"none"}}
    assert case["screen"] not in right[case["should"]], "a documented limit must be wrong"
    assert case["why"].strip()
    assert _outcome(case["text"]) == case["screen"]


def test_the_case_lists_are_substantial() -> None:
    risk = sum(len(texts) for group in ("crisis", "risk") for texts in CASES[group].values())
    assert risk >= 150
    assert len(CASES["others"]) >= 30
    assert sum(len(texts) for texts in CASES["none"].values()) >= 80


def test_a_concern_names_its_cue_groups_and_never_the_words() -> None:
    concern = screen("I've been counting the tablets in my cabinet")
    assert concern is not None and concern.outcome == "check_in"
    assert concern.cues == ("means",)
    assert all("tablet" not in cue for cue in concern.cues)
    assert safety.Concern("crisis") == safety.Concern("crisis", ("wish_or_intent",))


# ---------------------------------------------------------------------- layer 1: normalise


@pytest.mark.parametrize(("text", "reads"), CASES["normalise"], ids=lambda v: str(v)[:30])
def test_text_is_normalised_before_matching(text: str, reads: str) -> None:
    assert safety.normalise(text) == reads


@pytest.mark.parametrize(
    ("word", "target", "close"),
    [
        ("sucidal", "suicidal", True),  # a letter dropped
        ("suiicidal", "suicidal", True),  # a letter added
        ("suisidal", "suicidal", True),  # a letter changed
        ("suicdial", "suicidal", True),  # two letters swapped
        ("suicidal", "suicidal", False),  # the same word is not a typo
        ("sucdial", "suicidal", False),  # two edits
        ("homeless", "hopeless", True),
    ],
)
def test_one_edit_is_one_letter_added_dropped_changed_or_swapped(
    word: str, target: str, close: bool
) -> None:
    assert one_edit(word, target) is close


def test_real_words_one_edit_from_a_risk_word_are_left_alone() -> None:
    reader = SHIPPED_SCREEN.reader
    assert "homeles" in reader.typo_exceptions  # "homeless" is not "hopeless"
    assert safety.normalise("homeless") == "homeles"
    assert safety.normalise("tables") == "tables"
    assert _outcome("We need more tables for the homeless shelter") == "none"


def test_quoted_words_are_a_clause_of_their_own_marked_as_quoted() -> None:
    clauses = SHIPPED_SCREEN.clauses(
        "A pupil said \u201ckms\u201d in maths. He can't go on, he said"
    )
    assert [(c.text, c.quoted) for c in clauses] == [
        ("a pupil said", False),
        ("kil myself", True),
        ("in maths", False),
        ("he cant go on he said", False),
    ]
    # An apostrophe inside a word is not a quotation mark.
    assert [c.quoted for c in SHIPPED_SCREEN.clauses("I can't. I won't.")] == [False, False]


def test_a_zero_width_space_or_shouting_changes_nothing() -> None:
    for text in ["I want to kill myself", "I can't go on", "a pupil disclosed self-harm today"]:
        expected = _outcome(text)
        assert _outcome(text.upper()) == expected
        assert _outcome(text.replace(" ", " \u200b")) == expected
        assert _outcome(text.replace("'", "\u2019")) == expected


# ---------------------------------------------------------------------- layer 2: cues


def _cue(name: str) -> Any:
    return next(cue for cue in SHIPPED_SCREEN.cues if cue.name == name)


@pytest.mark.parametrize(
    ("group", "text"),
    [
        (group, text)
        for group, texts in CASES["cues"].items()
        if group != "me_too"
        for text in texts
    ],
    ids=lambda value: str(value)[:30],
)
def test_each_cue_group_catches_its_own_phrasings(group: str, text: str) -> None:
    clauses = [clause.text for clause in SHIPPED_SCREEN.clauses(text)]
    assert _cue(group).search(join(clauses)) is not None


@pytest.mark.parametrize("text", CASES["cues"]["me_too"], ids=lambda t: t[:40])
def test_me_too_is_named_when_it_takes_on_someone_elses_risk(text: str) -> None:
    concern = screen(text)
    assert concern is not None and safety.ME_TOO in concern.cues


def _all_case_texts() -> list[str]:
    texts: list[str] = []
    for group in ("crisis", "risk", "none"):
        texts += [text for group_texts in CASES[group].values() for text in group_texts]
    texts += CASES["others"] + CASES["quoted"]
    texts += [text for group_texts in CASES["cues"].values() for text in group_texts]
    return texts + [case["text"] for case in CASES["known_misses"] + CASES["known_false_alarms"]]


ALL_CASE_TEXTS = _all_case_texts()
JOINED_CASES = [
    join([clause.text for clause in SHIPPED_SCREEN.clauses(text)]) for text in ALL_CASE_TEXTS
]


@pytest.mark.parametrize(
    ("cue", "number"),
    [(cue.name, number) for cue in SHIPPED_SCREEN.cues for number in range(len(cue.parts))],
    ids=lambda value: str(value),
)
def test_every_cue_pattern_has_an_example_among_the_cases(cue: str, number: int) -> None:
    """So a reviewer can see what each pattern is for, and a broken pattern shows up."""
    _, pattern = _cue(cue).parts[number]
    assert any(pattern.search(text) for text in JOINED_CASES), (
        f"add a case to safety_cases.yaml that cues.{cue} pattern {number + 1} catches"
    )


@pytest.mark.parametrize(
    ("pattern", "keys"),
    [
        ("(kil|kiling) (?:my ?self|meself)", ("kil",)),
        ("(want|wants) to be dead", ("want",)),
        ("(a|the) plan,? (the )?means", ("plan",)),
        ("su[ie][cs]i?d\\w*", ("su",)),
        ("(i|he) (cut|burn)", ("cut", "burn")),
        ("(i|he) (a|b)", None),
    ],
)
def test_a_pattern_runs_only_when_the_message_holds_a_word_it_needs(
    pattern: str, keys: tuple[str, ...] | None
) -> None:
    assert required_keys(pattern) == keys


def test_every_key_is_really_needed_by_its_pattern() -> None:
    """A key that a match could lack would hide that match: check each against the cases."""
    for cue in SHIPPED_SCREEN.cues:
        for keys, pattern in cue.parts:
            if keys is None:
                continue
            for text in JOINED_CASES:
                match = pattern.search(text)
                if match is not None:
                    starts = {word[:size] for word in match.group().split() for size in (2, 3, 4)}
                    assert starts & set(keys), (cue.name, pattern.pattern[:60], keys)


# ---------------------------------------------------------------------- layer 3: context


@pytest.mark.parametrize(
    ("before", "negated"),
    [
        ("i would never", True),
        ("im not", True),
        ("i dont have any", True),
        ("im not sure i wont", False),  # hedged
        ("i cant promise i wont", False),
        ("i really", False),
    ],
)
def test_a_negator_sets_a_cue_aside_unless_hedged(before: str, negated: bool) -> None:
    assert SHIPPED_SCREEN.context.negated(before) is negated


@pytest.mark.parametrize(
    ("before", "matched", "about"),
    [
        ("", "kil myself", "self"),
        ("", "kil herself", "others"),
        ("i think", "want to die", "self"),
        ("my nurse said she", "want to die", "others"),
        ("a pupil handed me a", "godbye leter", "others"),  # "me" as an object
        ("my deputy", "want to die", "others"),  # "my" as an owner
        ("", "want to die", None),
        ("my laptop is about to", "die", "thing"),
    ],
)
def test_a_cue_is_about_the_nearest_person_named(before: str, matched: str, about: str) -> None:
    assert SHIPPED_SCREEN.context.subject(before, matched) == about


def test_the_leaders_own_risk_anywhere_in_a_message_wins() -> None:
    assert _outcome("A pupil disclosed self-harm today. I want to die.") == "crisis"
    assert _outcome("I want to die. We also lost a patient to suicide.") == "crisis"
    assert _outcome("A pupil disclosed self-harm today.") == "others"


@pytest.mark.parametrize("answer", ["so do I", "me too", "I've been thinking about doing the same"])
def test_me_too_takes_on_the_risk_of_the_clause_it_answers(answer: str) -> None:
    concern = screen(f"One of my nurses told me she wants to die, and {answer}.")
    assert concern is not None and concern.outcome == "crisis"
    assert concern.cues == (safety.ME_TOO,)
    assert _outcome("One of my nurses told me she wants to die.") == "others"


def test_work_words_next_to_the_leaders_own_risk_do_not_hide_it() -> None:
    assert _outcome("Feeling suicidal after the governors' meeting") == "crisis"
    assert _outcome("Suicide prevention training at the governors' meeting") == "none"


def test_risk_told_as_long_past_and_resolved_is_set_aside_unless_it_is_back() -> None:
    past = "Years ago I was suicidal. I'm in a good place now."
    assert _outcome(past) == "none"
    assert _outcome("Years ago I was suicidal. It's coming back.") == "crisis"
    assert _outcome("Years ago I was suicidal. I want to die.") == "crisis"
    assert _outcome("I was suicidal last week.") == "crisis"


def test_an_exaggerating_clause_counts_for_nothing() -> None:
    assert _outcome("If I get one more email I'm going to jump off the roof") == "none"
    assert _outcome("I'm going to jump off the roof") == "check_in"


def test_a_statement_of_safety_does_not_cancel_what_follows() -> None:
    for text in ["I can't go on", "everyone would be better off without me", "I want to die"]:
        assert _outcome(f"I'm not suicidal, but {text}") in {"crisis", "check_in"}
        assert _outcome(f"I would never hurt myself. {text}") in {"crisis", "check_in"}


# ---------------------------------------------------------------------- robustness


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_at_all_is_screened_without_error(text: str) -> None:
    result = screen(text)
    assert result is None or result.outcome in {"crisis", "check_in", "others"}


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(" .,!?'’-\""), max_size=50))
def test_punctuation_around_a_direct_statement_does_not_hide_it(noise: str) -> None:
    assert _outcome(f"{noise}I want to kill myself{noise}") in {"crisis", "others"}
    assert _outcome(f"{noise} I want to kill myself {noise}.") != "none"


def test_a_very_long_message_is_screened_whole() -> None:
    long_text = "A long shift on the ward, and a hard meeting with the family. " * 600
    assert screen(long_text) is None
    assert _outcome(long_text + " I can't go on.") == "check_in"
    assert _outcome(long_text + " I want to die.") == "crisis"


def test_a_phrase_repeated_many_times_is_read_and_the_end_still_counts() -> None:
    assert _outcome("She wants to die. " * 200 + "I want to die too.") == "crisis"
    assert _outcome("She wants to die. " * 200 + "I want to die.") == "crisis"
    assert _outcome('A pupil said "kms". ' * 200 + "kms") == "crisis"
    assert _outcome("She wants to die. " * 200) == "others"


def test_the_screen_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    screen("I want to kill myself")
    screen("a pupil disclosed self-harm today")
    assert caplog.records == []


# ---------------------------------------------------------------------- the phrase file


def _minimal() -> dict[str, Any]:
    return {
        "terms": {"me": "myself|me"},
        "cues": {
            "crisis": {"wish": ["kill {me}", "wants? to die"]},
            "check_in": {"burden": ["better off without me"]},
            "topic": {"words": ["suicide"]},
        },
        "first_person": "i|me",
        "third_party": "she|pupil",
        "professional": "training",
        "work": "ward",
        "me_too": "so do i",
        "past": "years ago",
        "resolved": "well now",
        "returning": "again",
        "present": "i want",
        "hyperbole": "one more email",
        "things": "laptop",
        "event_words": ["a"],
        "negators": ["never"],
        "fillers": ["would"],
        "hedges": ["sure"],
        "confusables": {"і": "i"},
    }


def test_a_minimal_phrase_file_compiles_and_works() -> None:
    custom = compile_screen(_minimal())
    assert custom.screen("I would never kill myself") is None
    assert custom.screen("kіll me") == safety.Concern("crisis")
    assert custom.screen("a pupil said she wants to die") == safety.Concern("others")
    assert custom.screen("they'd be better off without me") == safety.Concern("check_in")
    assert custom.screen("suicide") == safety.Concern("check_in")  # nobody named: asked
    assert custom.screen("suicide on the ward") == safety.Concern("others")
    assert custom.screen("suicide training") is None


def test_every_problem_in_the_phrase_file_is_reported_at_once() -> None:
    data = _minimal()
    data["cues"] = {
        "crisis": {"wish": ["kill {nobody}", "(unclosed"]},
        "check_in": {"burden": []},
        "topic": {"words": ["suicide"]},
        "alarm": {},
    }
    data["negators"] = "never"
    data["colour"] = "blue"
    with pytest.raises(SafetyConfigError) as error:
        compile_screen(data, source="my-safety.yaml")
    message = str(error.value)
    assert "my-safety.yaml" in message
    assert "cues.crisis.wish, pattern 1: unknown term {nobody}" in message
    assert "cues.crisis.wish, pattern 2: not a valid pattern" in message
    assert "cues.check_in.burden: expected a non-empty list" in message
    assert "cues: unknown level 'alarm'" in message
    assert "negators: expected a list of words" in message
    assert "unknown key 'colour'" in message


def test_a_missing_or_broken_phrase_file_gives_a_clear_error(tmp_path: Path) -> None:
    assert_bad_files_are_clear_errors(
        load_screen, SafetyConfigError, what="the safety phrase file", tmp_path=tmp_path
    )


def test_the_shipped_phrase_file_loads() -> None:
    shipped = load_screen(safety.DEFAULT_FILE)
    assert shipped.screen("I can't go on") == safety.Concern("check_in")
    assert shipped.screen("I want to kill myself") == safety.Concern("crisis")
