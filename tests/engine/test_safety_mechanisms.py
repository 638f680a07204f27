"""The safety screen's mechanisms, each on its own: signals read in pairs, whom a signal is
about, joke markers, risk told in the past, work words as a circumstance or as a subject,
people named as modifiers or in a clause about them, and "me too".

Assertions are on outcomes, cue names and subjects, never on English copy.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine import safety
from bot.engine.safety import Finding, SafetyConfigError, compile_screen, screen, signalled
from tests.engine.test_safety import _minimal

SHIPPED = safety.default_screen()
CONTEXT = SHIPPED.context


def _outcome(text: str) -> str:
    concern = screen(text)
    return "none" if concern is None else concern.outcome


# ---------------------------------------------------------------------- signals in pairs


def _signal(cue: str, about: str = "self", clause: int = 0) -> Finding:
    return Finding(cue, "signal", about, clause)  # type: ignore[arg-type]


def test_one_signal_alone_counts_for_nothing() -> None:
    assert signalled([_signal("preparing")]) == []


def test_two_different_signal_groups_make_a_check_in() -> None:
    found = signalled([_signal("preparing"), _signal("finality", clause=1)])
    assert {f.level for f in found} == {"check_in"}
    assert {f.cue for f in found} == {"preparing", "finality"}


def test_only_listed_pairs_count_when_pairs_are_given() -> None:
    pairs = frozenset({frozenset({"preparing", "finality"})})
    assert signalled([_signal("means_named"), _signal("finality")], pairs) == []
    assert len(signalled([_signal("preparing"), _signal("finality")], pairs)) == 2


def test_a_group_paired_with_itself_needs_two_clauses() -> None:
    pairs = frozenset({frozenset({"preparing"})})
    assert signalled([_signal("preparing"), _signal("preparing")], pairs) == []
    found = signalled([_signal("preparing"), _signal("preparing", clause=1)], pairs)
    assert [f.level for f in found] == ["check_in", "check_in"]


def test_other_findings_pass_through_untouched() -> None:
    crisis = Finding("wish_or_intent", "crisis", "self", 0)
    assert signalled([crisis, _signal("preparing")]) == [crisis]


@pytest.mark.parametrize(
    "text",
    [
        "Wrote letters to my two boys last night. Put them in the drawer just in case.",
        "Posted the spare keys back with a note. Won't need the flat after this weekend.",
        "There's a bridge on my way home and I slow down every time now",
        "Made sure the dog is going to my sister. Paperwork is all in a folder.",
    ],
)
def test_signals_in_pairs_ask_the_leader(text: str) -> None:
    concern = screen(text)
    assert concern is not None and concern.outcome == "check_in"


@pytest.mark.parametrize(
    "text",
    [
        "Handed over my caseload before my leave",
        "Cancelled the gym membership, too dear",
        "My tablets are in the kitchen cupboard",
        "Every time I drive to work there's traffic",
    ],
)
def test_one_signal_or_work_admin_is_left_alone(text: str) -> None:
    assert _outcome(text) == "none"


def test_signal_pairs_in_the_phrase_file_must_name_signal_groups() -> None:
    data = _minimal_with_signals()
    data["signal_pairs"] = ["preparing + nowhere"]
    with pytest.raises(SafetyConfigError, match="unknown: nowhere"):
        compile_screen(data)
    data["signal_pairs"] = "preparing"
    with pytest.raises(SafetyConfigError, match="signal_pairs"):
        compile_screen(data)


def test_a_phrase_file_without_signals_or_softeners_still_compiles() -> None:
    data = _minimal_with_signals()
    del data["cues"]["signal"], data["signal_pairs"], data["softeners"]
    custom = compile_screen(data)
    assert custom.screen("wrote letters just in case") is None


def test_signals_in_a_phrase_file_pair_up() -> None:
    custom = compile_screen(_minimal_with_signals())
    assert custom.screen("wrote letters") is None
    assert custom.screen("wrote letters just in case") == safety.Concern("check_in")


def _minimal_with_signals() -> dict[str, Any]:
    data = _minimal()
    data["cues"]["signal"] = {"preparing": ["wrote letters"], "finality": ["just in case"]}
    data["signal_pairs"] = ["preparing + finality"]
    data["softeners"] = "lol"
    return data


# ---------------------------------------------------------------------- whom a cue is about


@pytest.mark.parametrize(
    ("before", "about"),
    [
        ("", "self"),
        ("put them in the drawer", "self"),  # "them" is an object, never the doer
        ("our finance officer said hes", "others"),
        ("mums", "others"),
        ("i rang my dad to", "self"),
        ("made sure the cat is going to my neighbour", "self"),  # a person gone to
    ],
)
def test_a_signal_is_about_whoever_does_it(before: str, about: str) -> None:
    assert CONTEXT.doer(before) == about


@pytest.mark.parametrize(
    ("before", "matched", "about"),
    [
        ("i sat in the staf rom", "wanting to die", "self"),  # a person naming a place
        ("after the governors meting i", "want to die", "self"),
        ("a young person i suport has ben", "talking about jumping", "others"),
        ("a man who i work with", "wants to die", "others"),
        ("found razor blades in my daughters rom", "cuting", "others"),  # owned: still her
        ("they wont have to put up with", "me", "self"),  # "me" in the cue's own words
    ],
)
def test_people_as_modifiers_or_in_a_clause_about_them(
    before: str, matched: str, about: str
) -> None:
    assert CONTEXT.subject(before, matched) == about


def test_work_words_as_a_circumstance_are_not_talk_about_work() -> None:
    assert not CONTEXT.talks_about_work(" feeling suicidal after the governors meting ")
    assert CONTEXT.talks_about_work(" suicide prevention training for governors ")


def test_an_unattributed_cue_in_a_clause_of_work_talk_is_not_the_leaders() -> None:
    assert _outcome("Reviewed the falls and self-harm risk assessments") == "none"
    assert _outcome("Medication audit flagged a stockpiling risk for residents") == "none"
    assert _outcome("The audit committee ripped me apart. Drove home wanting to crash.") != "none"


# ---------------------------------------------------------------------- jokes and the past


def test_a_joke_marker_turns_the_crisis_card_into_the_check_in() -> None:
    assert CONTEXT.softens("i want to die lol")
    assert _outcome("I want to die") == "crisis"
    assert _outcome("I want to die lol") == "check_in"
    assert _outcome("this job makes me want to kill myself") == "check_in"


@pytest.mark.parametrize(
    ("text", "history"),
    [
        ("years ago i was suicidal . im in a god place now", "resolved"),
        ("i was suicidal in my twenties", "resolved"),
        ("i was suicidal in my late twenties", "resolved"),
        ("in my phd years i self harmed", "resolved"),
        ("i burned myself to cope . not since 2004", "resolved"),
        ("i had thoughts of suicide . thats long finished", "past"),
        ("i took an overdose . im fine now", "past"),  # over, but not said when
        ("i tried six months ago", None),  # recent
        ("years ago i was suicidal . its coming back", None),
    ],
)
def test_how_a_message_tells_of_risk_in_the_past(text: str, history: str | None) -> None:
    assert CONTEXT.history(f" {text} ") == history


@pytest.mark.parametrize(
    ("near", "recent"),
    [
        (["i was suicidal back in the spring"], True),
        (["i tried to end it years ago", "it came back last wek"], True),
        (["ten years ago this month i tried to kil myself"], False),  # an anniversary
        (["i self harmed in 2009", "im wel now and this wek was long"], False),  # over
        ([], False),
    ],
)
def test_words_of_time_count_only_where_the_risk_is_told(near: list[str], recent: bool) -> None:
    assert CONTEXT.recent_near(near) is recent
    whole = " " + " . ".join(near) + " "
    assert (CONTEXT.history(whole, near=near) is None) is (recent or CONTEXT.history(whole) is None)


def test_a_recent_week_elsewhere_in_the_message_does_not_make_an_old_risk_current() -> None:
    assert _outcome("Back in 2015 I had suicidal thoughts for a year. I'm well now.") == "none"
    assert (
        _outcome("Back in 2015 I had suicidal thoughts for a year. Well now. Busy this week.")
        == "none"
    )
    assert _outcome("Back in 2015 I had suicidal thoughts. They came back this week.") in {
        "crisis",
        "check_in",
    }


@pytest.mark.parametrize(
    "text",
    [
        "My son's been cutting again. Found razor blades hidden in his school bag.",
        "Daughter self-harming again. We found a blade in her makeup bag.",
    ],
)
def test_words_close_to_risk_in_a_clause_about_someone_else_are_theirs(text: str) -> None:
    assert _outcome(text) == "others"


@pytest.mark.parametrize(
    "text",
    [
        "My friend took an overdose last week. Been stockpiling my own tablets since.",
        "A colleague told me he wants to die. Been looking at the bridge on my way home.",
    ],
)
def test_words_close_to_risk_that_name_the_leader_stay_the_leaders(text: str) -> None:
    assert _outcome(text) in {"crisis", "check_in"}


def test_a_clause_names_someone_else_only_without_the_leader() -> None:
    assert CONTEXT.names_someone_else_only("found blades in her pencil case")
    assert not CONTEXT.names_someone_else_only("found blades in my pencil case for her")
    assert not CONTEXT.names_someone_else_only("found blades in the pencil case")


def test_risk_over_but_undated_is_asked_about_and_recent_past_counts() -> None:
    assert _outcome("I took an overdose. I'm fine now.") == "check_in"
    assert _outcome("I attempted a few weeks ago. Back at work like nothing happened.") in {
        "crisis",
        "check_in",
    }
    assert _outcome("Years ago I was suicidal. I'm in a good place now.") == "none"


# ---------------------------------------------------------------------- me too


@pytest.mark.parametrize(
    "answer",
    [
        "I'm not far behind her",
        "I've started doing it again myself",
        "I'm in the same place",
        "honestly I might be next",
        "neither have I",
        "you and me both",
        "relatable",
        "haven't we all",
        "mine are still in the drawer",
        "honestly, same",
        "I sat there thinking snap",
        "I could have written that myself",
        "I asked how, for my own reasons",
        "I'm the next one",
    ],
)
def test_a_me_too_in_other_words_takes_on_the_risk(answer: str) -> None:
    concern = screen(f"My colleague told me she's suicidal. {answer}.")
    assert concern is not None and concern.outcome in {"crisis", "check_in"}
    assert safety.ME_TOO in concern.cues


def test_me_too_words_inside_ordinary_speech_are_not_a_me_too() -> None:
    assert _outcome("A pupil told me she wants to die. She asked me to sit with her.") == "others"
    assert _outcome("Public health asked me to chair the suicide surveillance group") == "none"


@pytest.mark.parametrize(
    "answer",
    [
        "I've been having the same ones since August",
        "that could easily have been me",
        "I'd said those exact words to myself this morning",
        "part of me envies her",
        "I've got a drawer like that too",
    ],
)
def test_a_sharing_marker_with_the_leader_as_subject_is_a_me_too(answer: str) -> None:
    concern = screen(f"One of my nurses told me she wants to end it. {answer}.")
    assert concern is not None and concern.outcome in {"crisis", "check_in"}
    assert safety.ME_TOO in concern.cues


@pytest.mark.parametrize(
    "answer",
    [
        "I was worried about her too",
        "I rang her mum as well",
        "I'll check on her again tomorrow too",
        "I didn't know what to say either",
    ],
)
def test_the_leaders_reaction_or_action_is_not_a_me_too(answer: str) -> None:
    assert _outcome(f"One of my nurses told me she wants to end it. {answer}.") == "others"


def test_a_reaction_word_that_is_negated_does_not_hide_a_me_too() -> None:
    concern = screen("A pupil said she wants to die. I didn't tell her I feel the same ones.")
    assert concern is not None and safety.ME_TOO in concern.cues


def test_a_me_too_answers_risk_told_in_words_no_cue_lists() -> None:
    concern = screen("A volunteer said she'd been looking at bridges. Same here, for a month.")
    assert concern is not None and concern.outcome == "check_in"
    assert concern.cues == (safety.ME_TOO,)
    # The same "me too" with nothing of risk said about anyone else is nothing.
    assert _outcome("A volunteer said she'd been looking at houses. Same here, for a month.") == (
        "none"
    )


def test_the_lexicon_path_needs_someone_else_named_in_another_clause() -> None:
    assert CONTEXT.tells_of_others_risk("a volunteer said shed ben loking at bridges")
    assert not CONTEXT.tells_of_others_risk("ive ben loking at bridges")


# ---------------------------------------------------------------------- putting affairs in order


@pytest.mark.parametrize(
    "text",
    [
        "I've sorted my will and told my sister where the life insurance papers are",
        "Rehomed the cat with my neighbour this week",
        "I've chosen the songs I want played",
        "Wrote cards for the kids' birthdays, all of them, up to 18",
    ],
)
def test_acts_of_putting_affairs_in_order_are_asked_about(text: str) -> None:
    assert _outcome(text) == "check_in"


@pytest.mark.parametrize(
    "text",
    [
        "Updated my will after the wedding",
        "We rehomed the cat because the baby is allergic",
        "HR reminded everyone to check their death in service nomination, so I did mine",
    ],
)
def test_an_everyday_reason_sets_an_act_of_preparation_aside(text: str) -> None:
    assert _outcome(text) == "none"


def test_a_group_is_set_aside_only_when_listed_as_reasoned() -> None:
    data = _minimal_with_signals()
    data["cues"]["check_in"]["preparation"] = ["made my will"]
    data["ordinary_reasons"] = "wedding"
    assert compile_screen(data).screen("made my will after the wedding") == safety.Concern(
        "check_in"
    )
    data["with_an_everyday_reason"] = ["preparation"]
    assert compile_screen(data).screen("made my will after the wedding") is None
    assert compile_screen(data).screen("made my will") == safety.Concern("check_in")


# ---------------------------------------------------------------------- word classes x frames


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("The team would run smoother without me", "burden"),  # any comparative
        ("My kids would be calmer without me", "burden"),
        ("I know which tablets in the cupboard would do it", "means"),  # a method + "do it"
        ("I know which bottle on the ward I'd take", "means"),
        ("I pressed a hot spoon against my arm", "self_injury_unconfirmed"),  # instrument on body
        ("Stubbed a cigarette out on my wrist", "self_injury_unconfirmed"),
        ("I can't see a future where I'm still here", "hopelessness"),  # a future without me
        ("I don't think I'll still be alive for the hearing", "hopelessness"),
    ],
)
def test_word_classes_in_frames_catch_wording_not_listed(text: str, cue: str) -> None:
    concern = screen(text)
    assert concern is not None and concern.outcome in {"crisis", "check_in"}
    assert cue in concern.cues


def test_terms_may_name_other_terms() -> None:
    data = _minimal()
    data["terms"].update({"pills": "tablets|pills", "method": "{pills}|rope"})
    data["cues"]["check_in"] = {"means": ["counted the {method}"]}
    custom = compile_screen(data)
    assert custom.screen("I counted the pills") == safety.Concern("check_in")
    assert custom.screen("I counted the rope") == safety.Concern("check_in")


@pytest.mark.parametrize(
    "text",
    [
        "If I have to explain the new radio system again I'll jump in the canal",
        "The new policy made me want to bang my head on the desk",
        "I'd rather die than sit through another budget meeting",
    ],
)
def test_exaggeration_and_idiom_frames_are_left_alone(text: str) -> None:
    assert _outcome(text) == "none"


# ---------------------------------------------------------------------- starred-out letters


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("s*icidal again", "suicidal again"),
        ("su**ide", "suicide"),
        ("i want to k*ll myself", "i want to kil myself"),
        ("i want to d*e", "i want to die"),
    ],
)
def test_a_word_with_letters_starred_out_is_read_as_the_risk_word(typed: str, read: str) -> None:
    assert safety.normalise(typed) == read


@pytest.mark.parametrize("typed", ["f*cking hell", "what the h*ll", "*sigh*", "rated 5*", "***"])
def test_stars_that_stand_for_no_risk_word_change_nothing(typed: str) -> None:
    assert safety.normalise(typed) == safety.normalise(typed.replace("*", " "))
    assert screen(typed) is None


def test_a_long_starred_run_is_left_alone_and_each_starred_word_is_read() -> None:
    # A run longer than any risk word is not searched for one (the cost stays linear).
    assert screen("a*" + "a" * 20_000 + "9") is None
    assert safety.normalise("k*ll " * 2_000).split() == ["kil"] * 2_000


# ---------------------------------------------------------------------- meaning it literally


@pytest.mark.parametrize(
    "text",
    [
        "The review names my team. I'd sooner die than read it out, and I mean that literally.",
        "This rota will be the death of me, and I mean that.",
        "The deadline will kill me, I'm not even joking.",
    ],
)
def test_a_figure_of_speech_the_writer_says_they_mean_is_asked_about(text: str) -> None:
    concern = screen(text)
    assert concern is not None and concern.outcome == "check_in"
    assert safety.LITERAL in concern.cues


def test_the_same_figure_of_speech_without_meaning_it_is_left_alone() -> None:
    assert screen("This rota will be the death of me.") is None
    assert screen("I'm not joking, this spreadsheet is enormous.") is None


def test_the_leader_meaning_it_after_someone_elses_risk_is_asked_about() -> None:
    told = "A colleague told me he wants to drive into the sea. I said I'd go in with him."
    before = screen(told)
    assert before is not None and before.outcome == "others"
    concern = screen(f"{told} I wasn't joking.")
    assert concern is not None and concern.outcome == "check_in"
    assert safety.LITERAL in concern.cues


@pytest.mark.parametrize(
    "text",
    [
        "She said she would kill herself and she wasn't joking. We got the crisis team out.",
        "My pupil said he would jump and I knew he was not joking, so I rang his mum.",
    ],
)
def test_someone_else_meaning_it_is_not_the_leaders_risk(text: str) -> None:
    concern = screen(text)
    assert concern is None or concern.outcome == "others"
