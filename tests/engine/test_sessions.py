"""The pure state machine: start, answer, re-ask, skip, back, branching, info steps."""

from __future__ import annotations

from bot.engine import messages, sessions
from bot.engine.flows import Flow
from bot.engine.people import Person
from bot.engine.replies import Question, Say
from bot.engine.sessions import Session
from tests.conftest import NOW, energy_scale, flow_from


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


def test_a_scale_takes_a_number_or_a_points_word_and_refuses_the_rest(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["Something", "9"])
    (question,) = turn.replies
    assert isinstance(question, Question) and question.step_id == "weight"
    assert question.reason is not None and "1 to 5" in question.reason
    assert "weight" not in turn.session.answers
    assert _walk(hard_day, ["Something", "Very heavy"]).session.answers["weight"] == 5
    assert _walk(hard_day, ["Something", "quite heavy"]).session.answers["weight"] == 3
    assert _walk(hard_day, ["Something", " 4 "]).session.answers["weight"] == 4


def test_an_empty_answer_to_a_required_step_is_asked_again(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["   "])
    (question,) = turn.replies
    assert isinstance(question, Question) and question.step_id == "what_happened"
    assert question.reason


def test_a_choice_takes_its_number_label_or_value(hard_day: Flow) -> None:
    before = ["x", "3", "skip", "1"]
    assert _walk(hard_day, [*before, "2"]).session.answers["need"] == "talk"
    plan = hard_day.step("need").options[2].label  # type: ignore[union-attr]
    assert _walk(hard_day, [*before, plan]).session.answers["need"] == "plan"
    assert _walk(hard_day, [*before, "rest"]).session.answers["need"] == "rest"
    refused = _walk(hard_day, [*before, "7"])
    assert "need" not in refused.session.answers
    assert refused.replies[0].reason  # type: ignore[union-attr]


def test_skip_works_only_on_optional_steps(hard_day: Flow) -> None:
    turn = _walk(hard_day, ["skip"])
    assert _asked(turn) == ["what_happened"]
    finished = _walk(hard_day, ["x", "3", "skip", "1", "rest", "1", "skip", "3"])
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
    inputs = ["A parent complaint", "2", "1", "1", "2", "4", "Walk home", "1"]
    turn = _walk(hard_day, inputs)
    assert turn.finished and turn.summary is not None
    assert "A parent complaint" in turn.summary
    assert "Talk it through with someone" in turn.summary  # the label, not the value
    # A scale reads as its number, its top and its word: "2 of 5 (a little heavy)".
    weight = hard_day.step("weight")
    rated = messages.text("rating.with_word", value=2, max=5, word=weight.word(2))  # type: ignore[union-attr]
    assert rated in turn.summary


BRANCHING = flow_from(
    {
        "steps": [
            energy_scale(next=[{"if": "energy <= 2", "then": "restore"}, {"else": "note"}]),
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
    assert isinstance(low.replies[0], Say) and "Low energy (1 of 5 (empty))" in low.replies[0].text
    assert _asked(low) == ["rest"]
    high = _walk(BRANCHING, ["5"])
    assert _asked(high) == ["note"]


def test_a_branch_can_end_the_flow_and_multi_choice_takes_several() -> None:
    turn = _walk(BRANCHING, ["1", "1, 3"])
    assert turn.finished
    assert turn.session.answers["rest"] == ["sleep", "talk"]
    assert turn.summary == "Energy 1 of 5 (empty); Sleep and Talking."
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
    turn = _walk(hard_day, ["x", "3", "skip", "1"])
    again = Session.from_json(turn.session.to_json())
    assert again == turn.session
    assert sessions.answer(hard_day, again, "rest", now=NOW).session.step_id == "put_down"


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
    assert london.summary is not None and "(evening)" in london.summary
    assert auckland.summary is not None and "(morning)" in auckland.summary


def test_time_of_day_words_follow_the_person_s_own_time_zone(hard_day: Flow) -> None:
    """18:30 UTC: "tonight" in London, but "before you rest" in Auckland at 07:30 (after a
    night shift), never "tonight" in the morning."""
    london = _walk_as(hard_day, Person("t:1", timezone="Europe/London"), upto=5)
    auckland = _walk_as(hard_day, Person("t:2", timezone="Pacific/Auckland"), upto=5)
    asked = [r for r in london.replies if isinstance(r, Question)][-1]
    assert asked.step_id == "put_down"
    evening = messages.text("time_of_day.before_rest.evening")
    morning = messages.text("time_of_day.before_rest.morning")
    assert evening in asked.text and morning not in asked.text
    asked = [r for r in auckland.replies if isinstance(r, Question)][-1]
    assert morning in asked.text and evening not in asked.text


def test_a_follow_up_step_is_asked_only_with_something_to_follow_up(hard_day: Flow) -> None:
    inputs = ["x", "3", "skip", "1", "rest", "1"]
    without = _walk(hard_day, inputs)
    assert _asked(without) == ["next_step"]
    recall = {"next_step": {"reflection_id": "r1", "text": "Ring the ward", "when": "yesterday"}}
    turn = sessions.start(hard_day, now=NOW, recall=recall)
    for text in inputs:
        skipped = text == "skip"
        turn = (
            sessions.skip(hard_day, turn.session, now=NOW, reason="-")
            if skipped
            else sessions.answer(hard_day, turn.session, text, now=NOW)
        )
    (question,) = [r for r in turn.replies if isinstance(r, Question)]
    assert question.step_id == "how_it_went" and "Ring the ward" in question.text
    assert [c.value for c in question.choices] == ["done", "carry_on", "drop", "stop_asking"]
    after = sessions.choose(hard_day, turn.session, "carry_on", now=NOW)
    assert _asked(after) == ["next_step"] and after.session.answers["how_it_went"] == "carry_on"
    assert Session.from_json(after.session.to_json()).recall == recall


def test_a_session_keeps_no_name(hard_day: Flow) -> None:
    turn = sessions.start(hard_day, now=NOW, person=Person("t:1", first_name="Priya"))
    assert "Priya" not in turn.session.to_json()


def _walk_as(flow: Flow, person: Person, *, upto: int | None = None) -> sessions.Turn:
    turn = sessions.start(flow, now=NOW, person=person)
    for text in ["x", "3", "skip", "1", "rest", "1", "skip", "3"][:upto]:
        if text == "skip":
            turn = sessions.skip(flow, turn.session, now=NOW, reason="-", person=person)
        else:
            turn = sessions.answer(flow, turn.session, text, now=NOW, person=person)
    return turn
