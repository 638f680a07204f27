"""The conversation service: safety first, commands, persistence after every step, completion."""

from __future__ import annotations

from bot.engine import messages
from bot.engine import replies as kind
from bot.engine.conversation import Conversations
from bot.engine.people import Person
from tests.conftest import Clock
from tests.fakes import MemoryStore

SAM = Person("terminal:sam", first_name="Sam")
ALEX = Person("terminal:alex")
HARD_DAY = ["A parent complaint", "4", "1", "1", "1", "1, 2", "Walk home", "3"]


def _question(replies: list[kind.Reply]) -> kind.Question:
    questions = [r for r in replies if isinstance(r, kind.Question)]
    assert questions, replies
    return questions[-1]


def _texts(replies: list[kind.Reply]) -> str:
    return "\n".join(getattr(r, "text", "") for r in replies)


def test_a_message_with_no_flow_in_progress_offers_the_debrief_first(
    conversations: Conversations,
) -> None:
    (offer,) = conversations.receive(SAM, "ugh, what a day")
    assert isinstance(offer, kind.FlowOffer)
    assert offer.flows[0].value == "hard-day"
    assert "Sam" in offer.text


def test_typing_a_flow_name_starts_it(conversations: Conversations) -> None:
    replies = conversations.receive(SAM, "After a hard day")
    assert _question(replies).step_id == "what_happened"
    assert _question(conversations.receive(ALEX, "tiny")).step_id == "mood"


def test_a_whole_flow_is_kept_as_one_reflection(
    conversations: Conversations, store: MemoryStore
) -> None:
    conversations.start(SAM, "hard-day")
    for text in HARD_DAY[:-1]:
        conversations.receive(SAM, text)
    replies = conversations.receive(SAM, HARD_DAY[-1])
    summary = next(r for r in replies if isinstance(r, kind.Summary))
    assert "A parent complaint" in summary.text
    assert isinstance(replies[-1], kind.SupervisorSuggestion)
    (kept,) = store.reflections(SAM)
    assert kept.id == summary.reflection_id
    # `landed` is summary-only: not kept as an answer of its own.
    assert [a.step_id for a in kept.answers] == [
        "what_happened",
        "weight",
        "colleagues",
        "need",
        "put_down",
        "next_step",
        "weight_now",
    ]
    assert store.load_session(SAM) is None
    assert [e[1] for e in store.events] == ["nudge_shown"]


def test_every_step_is_saved_so_a_restart_loses_nothing(
    conversations: Conversations, store: MemoryStore, clock: Clock
) -> None:
    conversations.start(SAM, "hard-day")
    conversations.receive(SAM, "A parent complaint")
    conversations.receive(SAM, "2")
    restarted = Conversations(
        library=conversations.library, store=store, signposts=conversations.signposts, clock=clock
    )
    assert _question(restarted.receive(SAM, "1")).step_id == "colleagues"


def test_pause_and_resume(conversations: Conversations) -> None:
    conversations.start(SAM, "hard-day")
    conversations.receive(SAM, "A parent complaint")
    assert messages.text("session.paused") in _texts(conversations.receive(SAM, "pause"))
    assert conversations.current(SAM) is None
    offer = conversations.receive(SAM, "hello")  # while paused, talk offers flows again
    assert isinstance(offer[0], kind.FlowOffer)
    resumed = conversations.receive(SAM, "resume")
    assert _question(resumed).step_id == "weight"


def test_stop_keeps_nothing(conversations: Conversations, store: MemoryStore) -> None:
    conversations.start(SAM, "hard-day")
    conversations.receive(SAM, "Something private")
    assert messages.text("session.stopped") in _texts(conversations.receive(SAM, "stop"))
    assert store.load_session(SAM) is None and store.reflections(SAM) == []


def test_help_explains_and_asks_again(conversations: Conversations) -> None:
    conversations.start(SAM, "hard-day")
    replies = conversations.receive(SAM, "help")
    asked = _question(replies)
    assert asked.step_id == "what_happened"
    general = messages.text("help", title=asked.flow_title, position=asked.position)
    step_help = conversations.library.get("hard-day").step("what_happened").help  # type: ignore[union-attr]
    said = [r.text for r in replies if isinstance(r, kind.Say)]
    assert said == [general, step_help]  # how to move about, then the step's own help


def test_the_safety_screen_answers_first_even_mid_flow(
    conversations: Conversations, store: MemoryStore
) -> None:
    conversations.start(SAM, "hard-day")
    replies = conversations.receive(SAM, "Honestly I want to kill myself")
    assert isinstance(replies[0], kind.Signpost) and not replies[0].gentle
    assert "116 123" in " ".join(r.how for r in replies[0].resources)
    # No next question as if nothing happened: what to do next is offered instead.
    assert [type(r) for r in replies] == [kind.Signpost, kind.AfterCrisis]
    assert ("terminal:sam", "signpost_shown") in [(e[0], e[1]) for e in store.events]
    # Only that a signpost was shown is recorded: no text in any event.
    assert all("kill" not in str(e) for e in store.events)


def test_one_not_what_i_meant_carries_on_without_repeating_the_reminder(
    conversations: Conversations,
) -> None:
    conversations.start(SAM, "hard-day")
    conversations.receive(SAM, "I want to kill myself")
    replies = conversations.receive(SAM, "that's not what I meant")
    assert _question(replies).step_id == "what_happened"
    later = conversations.receive(SAM, "A long shift")
    assert conversations.signposts.reminder not in _texts(later)


def test_the_safety_screen_runs_outside_a_flow_too(conversations: Conversations) -> None:
    replies = conversations.receive(SAM, "I can't stop thinking about suicide")
    assert isinstance(replies[0], kind.Signpost)
    assert not any(isinstance(r, kind.FlowOffer) for r in replies)


def test_starting_another_flow_sets_the_first_aside(conversations: Conversations) -> None:
    conversations.start(SAM, "hard-day")
    replies = conversations.start(SAM, "tiny")
    assert "set aside" in _texts(replies)
    assert _question(replies).step_id == "mood"


def test_an_old_click_changes_nothing(conversations: Conversations, store: MemoryStore) -> None:
    conversations.start(SAM, "tiny")
    first = conversations.choose(SAM, flow_id="tiny", step_id="mood", value="3")
    assert _question(first).step_id == "note"
    again = conversations.choose(SAM, flow_id="tiny", step_id="mood", value="1")
    assert "already" in _texts(again)
    session = store.load_session(SAM)
    assert session is not None and session.answers == {"mood": 3}


def test_people_do_not_share_sessions(conversations: Conversations) -> None:
    conversations.start(SAM, "hard-day")
    assert isinstance(conversations.receive(ALEX, "A parent complaint")[0], kind.FlowOffer)


def test_suggestion_clicks_are_counted_and_nothing_else(
    conversations: Conversations, store: MemoryStore
) -> None:
    conversations.suggestion_answered(SAM, opened=True)
    conversations.suggestion_answered(SAM, opened=False)
    assert [e[1] for e in store.events] == ["nudge_followed", "nudge_dismissed"]


def test_an_over_long_message_is_taken_not_refused(conversations: Conversations) -> None:
    conversations.start(SAM, "hard-day")
    replies = conversations.receive(SAM, "word " * 2000)
    assert _question(replies).step_id == "weight"


def test_follow_up_can_be_switched_off_and_on_by_typing_in_or_out_of_a_flow(
    conversations: Conversations, store: MemoryStore
) -> None:
    conversations.receive(SAM, "follow-up off")
    assert not store.follow_up_wanted(SAM)
    conversations.start(SAM, "hard-day")
    replies = conversations.receive(SAM, "follow-up on")
    assert store.follow_up_wanted(SAM)
    assert _question(replies).step_id == "what_happened"  # not taken as the answer
    session = store.load_session(SAM)
    assert session is not None and "what_happened" not in session.answers
