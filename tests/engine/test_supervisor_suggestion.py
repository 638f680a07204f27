"""The supervisor suggestion: bounded in frequency, remembered "Not now", wording suited to
the flow, firm when the load looks heavy, and never after a crisis card."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.engine import messages
from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.reflections import OLD_SCALE, Answer, ScaleMark, StoredReflection
from bot.engine.replies import Supervisor, SupervisorSuggestion
from bot.engine.sessions import Session
from bot.engine.signposts import load_signposts
from bot.engine.supervisor_suggestion import SuggestionHistory, SuggestionPolicy, says_stuck
from tests.conftest import NOW, ROOT, Clock, energy_scale, flow_from, options_step
from tests.fakes import MemoryStore

SAM = Person("terminal:sam", first_name="Sam")
SUPERVISOR = Supervisor("Alex Rivers", "Ward managers", booking_url="https://supervision.test/book")
POLICY = SuggestionPolicy(supervisors=(SUPERVISOR,))
NEW_SCALE = ScaleMark(1, 5, "max")


def _session(flow: Flow, **answers: Any) -> Session:
    return Session(
        flow_id=flow.id,
        step_id=flow.steps[-1].id,
        started_at=NOW - dt.timedelta(minutes=5),
        answers=dict(answers),
    )


def _earlier(
    flow_id: str,
    value: int,
    *,
    days_ago: float,
    step_id: str = "weight",
    mark: ScaleMark | None = NEW_SCALE,
) -> StoredReflection:
    finished = NOW - dt.timedelta(days=days_ago)
    return StoredReflection(
        id=f"r-{flow_id}-{days_ago}",
        flow_id=flow_id,
        started_at=finished - dt.timedelta(minutes=4),
        finished_at=finished,
        summary="",
        answers=(Answer(step_id, "scale", value, mark), Answer("what_happened", "text", "a day")),
    )


def _suggest(
    flow: Flow,
    session: Session,
    *,
    recent: list[StoredReflection] | None = None,
    history: SuggestionHistory | None = None,
    policy: SuggestionPolicy = POLICY,
    crisis_shown: bool = False,
) -> SupervisorSuggestion | None:
    return policy.after(
        flow=flow,
        session=session,
        recent=recent or [],
        history=history or SuggestionHistory(),
        now=NOW,
        crisis_shown=crisis_shown,
    )


def _firm(flow: Flow, session: Session, **kwargs: Any) -> bool:
    found = _suggest(flow, session, **kwargs)
    return found is not None and found.firm


# ---------------------------------------------------------------------- gentle, and bounded


def test_a_first_reflection_ends_with_a_gentle_suggestion_worded_for_the_flow(
    hard_day: Flow,
) -> None:
    found = _suggest(hard_day, _session(hard_day, weight=2, what_happened="A long meeting"))
    assert found is not None and not found.firm
    assert found.text == messages.text("suggestion.gentle.debrief")
    assert found.supervisors == (SUPERVISOR,)


def test_without_supervisors_the_suggestion_is_to_ask_about_supervision(hard_day: Flow) -> None:
    policy = SuggestionPolicy()
    found = _suggest(hard_day, _session(hard_day), policy=policy)
    assert found is not None and found.text == messages.text("suggestion.gentle.general")
    stuck = _suggest(hard_day, _session(hard_day, what_happened="I feel stuck"), policy=policy)
    assert stuck is not None and stuck.firm
    assert stuck.text == messages.text("suggestion.firm_general") and stuck.supervisors == ()


@pytest.mark.parametrize(
    "key",
    [
        "gentle.debrief",
        "gentle.checkin",
        "gentle.prepare",
        "gentle.model",
        "gentle.default",
        "gentle.general",
        "firm",
        "firm_general",
    ],
)
def test_the_words_are_never_pushy_or_alarming(key: str) -> None:
    text = messages.text(f"suggestion.{key}")
    assert "!" not in text
    for word in ("must", "urgent", "immediately", "crisis", "worried about you", "should"):
        assert word not in text.lower()


def test_a_gentle_suggestion_appears_at_most_once_a_week(hard_day: Flow) -> None:
    session = _session(hard_day, weight=2)
    shown = SuggestionHistory(last_shown=NOW - dt.timedelta(days=6, hours=23))
    assert _suggest(hard_day, session, history=shown) is None
    week = SuggestionHistory(last_shown=NOW - dt.timedelta(days=7))
    assert _suggest(hard_day, session, history=week) is not None


def test_preparing_for_supervision_always_shows_how_to_book() -> None:
    flow = flow_from(
        {"id": "prep", "area": "prepare", "steps": [{"id": "a", "kind": "text", "prompt": "?"}]}
    )
    shown = SuggestionHistory(last_shown=NOW - dt.timedelta(hours=1))
    found = _suggest(flow, _session(flow, a="x"), history=shown)
    assert found is not None and found.text == messages.text("suggestion.gentle.prepare")


def test_not_now_is_remembered_for_a_while(hard_day: Flow) -> None:
    heavy = _session(hard_day, weight=5, what_happened="I feel stuck")
    recently = SuggestionHistory(last_not_now=NOW - dt.timedelta(days=20))
    assert _suggest(hard_day, heavy, history=recently) is None  # not even a firm one
    later = SuggestionHistory(last_not_now=NOW - dt.timedelta(days=21))
    assert _suggest(hard_day, heavy, history=later) is not None


def test_never_a_pitch_after_a_crisis_card(hard_day: Flow) -> None:
    heavy = _session(hard_day, weight=5, what_happened="I feel stuck")
    assert _suggest(hard_day, heavy, crisis_shown=True) is None


def test_none_after_went_well_unless_there_are_signs() -> None:
    went_well = flow_from(
        {
            "id": "good",
            "suggest_supervisor": "when_heavy",
            "steps": [{"id": "what", "kind": "text", "prompt": "What went well?"}],
        }
    )
    assert _suggest(went_well, _session(went_well, what="A calm inspection")) is None
    stuck = _suggest(went_well, _session(went_well, what="Fine, but I feel stuck"))
    assert stuck is not None and stuck.firm


# ---------------------------------------------------------------------- what makes it firm


@pytest.mark.parametrize(
    "answer",
    [
        "Honestly I feel stuck",
        "Going round in circles with the rota",
        "I’m STUUUCK",
        "I can't see a way forward with her",
        "Totally out of my depth",
        "Feeling trapped. Long day.",
        "Stuck.",
        "Bring one thing I'm stuck on",
    ],
)
def test_saying_you_feel_stuck_makes_it_firm(hard_day: Flow, answer: str) -> None:
    session = _session(hard_day, weight=2, what_happened=answer)
    assert POLICY.reasons(flow=hard_day, session=session, recent=[], now=NOW) == {"stuck"}
    found = _suggest(hard_day, session)
    assert found is not None and found.firm and found.text == messages.text("suggestion.firm")


@pytest.mark.parametrize(
    "answer",
    [
        "I'm not stuck any more",
        "No longer stuck, thankfully",
        "I don't feel stuck",
        "Evidence that the actions stuck",
        "A stuckness-free day",
        "",
    ],
)
def test_saying_you_are_not_stuck_does_not(answer: str) -> None:
    assert not says_stuck(answer)


def test_a_chosen_option_meaning_stuck_counts() -> None:
    flow = flow_from(
        {
            "steps": [
                options_step(
                    "where",
                    "choice",
                    "Where are you with it?",
                    {"moving": "Moving on", "stuck": "Going nowhere"},
                ),
                options_step(
                    "what",
                    "multi",
                    "What's around?",
                    {"tired": "Tired", "feeling-stuck": "Nowhere to go"},
                ),
            ]
        }
    )
    assert _firm(flow, _session(flow, where="stuck"))
    assert _firm(flow, _session(flow, what=["tired", "feeling-stuck"]))
    assert not _firm(flow, _session(flow, where="moving", what=["tired"]))


def test_one_heavy_score_on_its_own_stays_gentle(hard_day: Flow) -> None:
    assert not _firm(hard_day, _session(hard_day, weight=5))


def test_heavy_scores_now_and_recently_make_it_firm(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 4, days_ago=3)]
    session = _session(hard_day, weight=4)
    assert POLICY.reasons(flow=hard_day, session=session, recent=recent, now=NOW) == {
        "heavy_scores"
    }
    assert _firm(hard_day, session, recent=recent)


def test_the_heavy_end_is_read_from_each_answer_so_old_answers_stay_true(hard_day: Flow) -> None:
    """Answers kept before scales said which end is heavy ran 1 (heavy) .. 5 (light): an old
    1 is heavy, an old 5 is light, whatever today's scale says."""
    old_heavy = [_earlier("hard-day", 1, days_ago=2, mark=OLD_SCALE)]
    assert _firm(hard_day, _session(hard_day, weight=5), recent=old_heavy)
    old_light = [_earlier("hard-day", 5, days_ago=2, mark=OLD_SCALE)]
    assert not _firm(hard_day, _session(hard_day, weight=5), recent=old_light)
    unmarked = [_earlier("hard-day", 1, days_ago=2, mark=None)]
    assert _firm(hard_day, _session(hard_day, weight=5), recent=unmarked)


def test_a_scale_whose_heavy_end_is_its_minimum_is_read_that_way() -> None:
    flow = flow_from(
        {
            "id": "energy",
            "steps": [energy_scale(min=0, max=10)],
        }
    )
    one = SuggestionPolicy(heavy_needed=1)
    assert _firm(flow, _session(flow, energy=3), policy=one)
    assert not _firm(flow, _session(flow, energy=4), policy=one)


def test_two_heavy_recent_reflections_count_even_when_today_is_lighter(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 5, days_ago=2), _earlier("hard-day", 4, days_ago=6)]
    assert _firm(hard_day, _session(hard_day, weight=2), recent=recent)


def test_scores_in_the_middle_of_the_scale_are_not_heavy(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 3, days_ago=2), _earlier("hard-day", 3, days_ago=6)]
    assert not _firm(hard_day, _session(hard_day, weight=3), recent=recent)


def test_old_reflections_do_not_count(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 5, days_ago=40)]
    assert not _firm(hard_day, _session(hard_day, weight=5), recent=recent)


def test_only_the_configured_number_of_reflections_is_looked_back_over(hard_day: Flow) -> None:
    recent = [
        _earlier("hard-day", 1, days_ago=1),
        _earlier("hard-day", 5, days_ago=2),
        _earlier("hard-day", 5, days_ago=3),
    ]
    session = _session(hard_day, weight=1)
    assert _firm(hard_day, session, recent=recent)
    short = SuggestionPolicy(supervisors=(SUPERVISOR,), look_back=1, heavy_needed=1)
    assert not _firm(hard_day, session, recent=recent, policy=short)


def test_a_firm_suggestion_appears_at_most_once_per_period(hard_day: Flow) -> None:
    stuck = _session(hard_day, what_happened="I feel stuck")

    def firm(days: float) -> bool:
        history = SuggestionHistory(last_firm=NOW - dt.timedelta(days=days))
        return _firm(hard_day, stuck, history=history)

    assert not firm(3) and not firm(13.99)
    assert firm(14)


def test_a_last_time_without_a_time_zone_is_read_as_utc(hard_day: Flow) -> None:
    naive = (NOW - dt.timedelta(days=1)).replace(tzinfo=None)
    history = SuggestionHistory(last_firm=naive, last_shown=naive)
    assert _suggest(hard_day, _session(hard_day, what_happened="stuck"), history=history) is None


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"firm_every": dt.timedelta(days=-1)}, "firm_every"),
        ({"quiet_after_not_now": dt.timedelta(days=-1)}, "quiet_after_not_now"),
        ({"look_back": 1, "heavy_needed": 3}, "heavy_needed"),
        ({"heavy_needed": 0}, "heavy_needed"),
        ({"heavy_fraction": 1.5}, "heavy_fraction"),
    ],
)
def test_impossible_settings_are_refused_clearly(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SuggestionPolicy(**settings)


# ---------------------------------------------------------------------- in real conversations

HARD_DAY = ["A parent complaint", "{weight}", "skip", "1", "1", "1", "skip", "3"]


def _conversations(hard_day: Flow, store: MemoryStore, clock: Clock) -> Conversations:
    """Real conversations on the hard-day flow, with one supervisor to suggest."""
    return Conversations(
        library=FlowLibrary([hard_day]),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        suggestions=SuggestionPolicy(supervisors=(SUPERVISOR,)),
        clock=clock,
    )


def test_the_bounds_hold_across_real_conversations(hard_day: Flow, clock: Clock) -> None:
    store = MemoryStore()
    conversations = _conversations(hard_day, store, clock)

    def walk(weight: str) -> SupervisorSuggestion | None:
        conversations.start(SAM, "hard-day")
        replies: list[Any] = []
        for text in HARD_DAY:
            replies = conversations.receive(SAM, text.format(weight=weight))
        assert any(reply.kind == "summary" for reply in replies)
        found = [reply for reply in replies if isinstance(reply, SupervisorSuggestion)]
        assert len(found) <= 1
        return found[0] if found else None

    first = walk("2")
    assert first is not None and not first.firm  # gentle, once
    assert walk("2") is None  # not again the same week
    assert walk("5") is None  # one heavy score alone: still only the weekly gentle one
    heavy = walk("5")
    assert heavy is not None and heavy.firm  # two heavy in a row: firm
    assert walk("5") is None  # a firm one was just shown
    conversations.suggestion_answered(SAM, opened=False)  # "Not now"
    clock.now += dt.timedelta(days=15)
    assert walk("5") is None  # "Not now" is remembered
    clock.now += dt.timedelta(days=7)
    again = walk("5")
    assert again is not None and again.firm
    kinds = [event[1] for event in store.events]
    assert kinds.count("nudge_firm_shown") == 2 and kinds.count("nudge_shown") == 3


def test_a_crisis_card_in_the_session_means_no_suggestion(hard_day: Flow, clock: Clock) -> None:
    store = MemoryStore()
    conversations = _conversations(hard_day, store, clock)
    conversations.start(SAM, "hard-day")
    replies: list[Any] = conversations.receive(SAM, "I want to kill myself")
    assert [reply.kind for reply in replies] == ["signpost", "after_crisis"]
    conversations.after_crisis(SAM, "carry_on")  # "I'm safe, carry on": the same question
    for text in HARD_DAY:
        replies = conversations.receive(SAM, text.format(weight="5"))
    assert any(reply.kind == "summary" for reply in replies)
    assert not any(isinstance(reply, SupervisorSuggestion) for reply in replies)
    assert "nudge_shown" not in [event[1] for event in store.events]
