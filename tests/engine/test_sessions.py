"""The pure state machine: start, answer, re-ask, skip, back, branching, info steps."""

from __future__ import annotations

from bot.engine import sessions
from bot.engine.flows import Flow
from bot.engine.people import Person
from bot.engine.replies import Question, Say
from bot.engine.sessions import Session
from tests.conftest import NOW, flow_from


def _walk(flow: Flow, inputs: list[str]) -> sessions.Turn:
    turn = sessions.start(flow, now=NOW)
    for text in inputs:
        if text == "skip":
            turn = sessions.skip(flow, turn.session, now=NOW, reason="required")
        elif text == "back":
            turn = sessions.back(flow, turn.session, now=NOW, reason="first")
        else:
            turn = sessions.answer(flow, turn.session, text, now=NOW)
    return turn


def _asked(turn: sessions.Turn) -> list[str]:
    return [r.step_id for r in turn.replies if isinstance(r, Question)]


def test_start_shows_the_intro_then_the_first_question(hard_day: Flow) -> None:
    turn = sessions.start(hard_day, now=NOW, person=Person("t:1", first_name="Priya"))
    intro, question = turn.replies
    assert isinstance(intro, Say) and "Priya" in intro.text
    assert isinstance(question, Question) and question.step_id == "what_happened"
    assert question.position == 1 and not question.can_go_back


def test_a_scale_takes_a_number_or_an_end_label_and_refuses_the_rest(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["Something", "9"])
    (question,) = turn.replies
    assert isinstance(question, Question) and question.step_id == "weight"
    assert question.reason is not None and "1 to 5" in question.reason
    assert "weight" not in turn.session.answers
    assert _walk(hard_day, ["Something", "Very heavy"]).session.answers["weight"] == 1
    assert _walk(hard_day, ["Something", " 4 "]).session.answers["weight"] == 4


def test_an_empty_answer_to_a_required_step_is_asked_again(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["   "])
    (question,) = turn.replies
    assert isinstance(question, Question) and question.step_id == "what_happened"
    assert question.reason


def test_a_choice_takes_its_number_label_or_value(hard_day: Flow) -> None:
    before = ["x", "3", "fine"]
    assert _walk(hard_day, [*before, "2"]).session.answers["need"] == "talk"
    assert _walk(hard_day, [*before, "A plan for tomorrow"]).session.answers["need"] == "plan"
    assert _walk(hard_day, [*before, "rest"]).session.answers["need"] == "rest"
    refused = _walk(hard_day, [*before, "7"])
    assert "need" not in refused.session.answers
    assert refused.replies[0].reason  # type: ignore[union-attr]


def test_skip_works_only_on_optional_steps(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["skip"])
    assert _asked(turn) == ["what_happened"]
    finished = _walk(hard_day, ["x", "3", "fine", "rest", "inbox", "skip"])
    assert finished.finished
    assert finished.session.answers["next_step"] is None


def test_back_reopens_the_previous_step_and_forgets_its_answer(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["x", "3", "back"])
    assert _asked(turn) == ["weight"]
    assert "weight" not in turn.session.answers
    assert turn.session.path == ("what_happened",)
    changed = sessions.answer(hard_day, turn.session, "1", now=NOW)
    assert changed.session.answers["weight"] == 1


def test_back_on_the_first_step_explains(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["back"])
    assert _asked(turn) == ["what_happened"]
    assert turn.replies[0].reason == "first"  # type: ignore[union-attr]


def test_the_summary_is_rendered_from_the_answers(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["A parent complaint", "2", "Rattled", "2", "Replaying it", "Walk home"])
    assert turn.finished and turn.summary is not None
    assert "A parent complaint" in turn.summary
    assert "Talk it through with someone" in turn.summary  # the label, not the value
    assert "2 out of 5" in turn.summary


BRANCHING = flow_from(
    {
        "steps": [
            {
                "id": "energy",
                "kind": "scale",
                "prompt": "Energy?",
                "labels": {"min": "empty", "max": "full"},
                "next": [{"if": "energy <= 2", "then": "restore"}, {"else": "note"}],
            },
            {"id": "restore", "kind": "info", "prompt": "Low energy ({{ energy }}). Go gently."},
            {
                "id": "rest",
                "kind": "multi",
                "prompt": "What helps?",
                "options": [
                    {"value": "sleep", "label": "Sleep"},
                    {"value": "walk", "label": "A walk"},
                    {"value": "talk", "label": "Talking"},
                ],
                "next": [{"if": "'talk' in rest", "then": "end"}],
            },
            {"id": "note", "kind": "text", "prompt": "Anything else?", "store": "never"},
        ],
        "summary": "Energy {{ energy }}{% if rest %}; {{ rest | listing }}{% endif %}.",
    }
)


def test_branches_follow_conditions_and_info_steps_are_shown_on_the_way() -> None:
    low = _walk(BRANCHING, ["1"])
    assert isinstance(low.replies[0], Say) and "Low energy (1)" in low.replies[0].text
    assert _asked(low) == ["rest"]
    high = _walk(BRANCHING, ["5"])
    assert _asked(high) == ["note"]


def test_a_branch_can_end_the_flow_and_multi_choice_takes_several() -> None:
    turn = _walk(BRANCHING, ["1", "1, 3"])
    assert turn.finished
    assert turn.session.answers["rest"] == ["sleep", "talk"]
    assert turn.summary == "Energy 1; Sleep and Talking."
    not_ended = _walk(BRANCHING, ["1", "A walk"])
    assert _asked(not_ended) == ["note"]


def test_back_skips_over_info_steps() -> None:
    turn = _walk(BRANCHING, ["1", "back"])
    assert _asked(turn) == ["energy"]


def test_only_answers_marked_store_yes_are_kept() -> None:
    turn = _walk(BRANCHING, ["4", "private thought"])
    assert turn.finished
    assert sessions.kept_answers(BRANCHING, turn.session) == {"energy": 4}


def test_a_session_survives_a_round_trip_through_json(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["x", "3", "fine", "2"])
    again = Session.from_json(turn.session.to_json())
    assert again == turn.session
    assert sessions.answer(hard_day, again, "inbox", now=NOW).session.step_id == "next_step"


def test_choose_takes_values_from_buttons() -> None:
    turn = _walk(BRANCHING, ["1"])
    chosen = sessions.choose(BRANCHING, turn.session, ["walk", "sleep"], now=NOW)
    assert chosen.session.answers["rest"] == ["sleep", "walk"]
    refused = sessions.choose(BRANCHING, turn.session, ["bogus"], now=NOW)
    assert "rest" not in refused.session.answers


def test_part_of_day_follows_the_person_s_own_time_zone(hard_day: Flow) -> None:
    # 18:30 UTC is evening in London and morning in Auckland (07:30 the next day).
    london = _walk_as(hard_day, Person("t:1", timezone="Europe/London"))
    auckland = _walk_as(hard_day, Person("t:2", timezone="Pacific/Auckland"))
    assert london.summary is not None and "this evening" in london.summary
    assert auckland.summary is not None and "this morning" in auckland.summary


def test_a_session_keeps_no_name(hard_day: Flow) -> None:
    turn = sessions.start(hard_day, now=NOW, person=Person("t:1", first_name="Priya"))
    assert "Priya" not in turn.session.to_json()


def _walk_as(flow: Flow, person: Person) -> sessions.Turn:
    turn = sessions.start(flow, now=NOW, person=person)
    for text in ["x", "3", "fine", "rest", "inbox", "skip"]:
        if text == "skip":
            turn = sessions.skip(flow, turn.session, now=NOW, reason="-", person=person)
        else:
            turn = sessions.answer(flow, turn.session, text, now=NOW, person=person)
    return turn
