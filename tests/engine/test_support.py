"""How the conversation answers each outcome of the safety screen, on the real SQLite store:
the crisis card and what follows it, the check-in question, the gentle card, and nothing.

The check-in paths use a screen that answers "check_in" for one sentence and is the shipped
screen otherwise (the shipped rules decide the check-in cases elsewhere)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine import safety
from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.reflections import Event
from bot.engine.replies import (
    AfterCrisis,
    CheckIn,
    FlowOffer,
    Question,
    Reply,
    Signpost,
    SupervisorSuggestion,
)
from bot.engine.safety import Concern
from bot.engine.signposts import load_signposts
from bot.engine.support import CONVERSATION_GAP
from bot.store.sqlite import SqliteStore
from tests.conftest import ROOT, Clock

SAM = Person("T1:U1", first_name="Sam")
CLOSE_TO_RISK = "I've written letters to everyone, just in case"
CRISIS = "I want to end my life tonight"
OTHERS = "A pupil disclosed self-harm today"
STEP = dt.timedelta(seconds=5)


def screen(text: str) -> Concern | None:
    if CLOSE_TO_RISK.lower() in text.lower():
        return Concern("check_in")
    return safety.screen(text)


class Recording(SqliteStore):
    """The real store, noting the name of each event the engine records, in order. (The file
    keeps these events sealed under the person's key: their names cannot be read from it.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: list[Event] = []

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        super().record(person, event, at=at, flow_id=flow_id)
        self.recorded.append(event)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Recording]:
    store = Recording.open(tmp_path / "reflect.db", secret=b"s" * 32)
    assert isinstance(store, Recording)
    yield store
    store.close()


class Ticking(Clock):
    """A clock that moves on a few seconds at every reading, as time does between messages."""

    def __call__(self) -> dt.datetime:
        self.now += STEP
        return self.now


@pytest.fixture
def ticking() -> Ticking:
    return Ticking()


@pytest.fixture
def talk(hard_day: Flow, db: SqliteStore, ticking: Ticking) -> Conversations:
    return Conversations(
        library=FlowLibrary([hard_day]),
        store=db,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        clock=ticking,
        screen=screen,
    )


def _kinds(replies: list[Reply]) -> list[str]:
    return [reply.kind for reply in replies]


def _answered(talk: Conversations, how: str, *said: str, typed: str, clicked: str) -> list[Reply]:
    """Sam starts the debrief and says `said`; the safety question then waiting (the
    check-in, or what to do after the crisis card) is answered as `how` says: typed in the
    conversation, or with its button."""
    talk.start(SAM, "hard-day")
    for words in said:
        talk.receive(SAM, words)
    if how == "typed":
        return talk.receive(SAM, typed)
    session = talk.store.load_session(SAM)
    assert session is not None and session.waiting in ("check_in", "after_crisis")
    if session.waiting == "check_in":
        return talk.check_in_answered(SAM, clicked)
    return talk.after_crisis(SAM, clicked)


def _events(db: SqliteStore) -> list[Event]:
    assert isinstance(db, Recording)
    for event in set(db.recorded):  # each one kept, and read back through the store
        assert db.last_event(SAM, event) is not None, event
    return db.recorded


def _step(talk: Conversations) -> str | None:
    question = talk.current(SAM)
    return question.step_id if question else None


# ---------------------------------------------------------------------- nothing


def test_ordinary_words_get_no_card_and_no_event(talk: Conversations, db: SqliteStore) -> None:
    talk.start(SAM, "hard-day")
    replies = talk.receive(SAM, "A parent shouted at me in reception")
    assert "signpost" not in _kinds(replies) and "check_in" not in _kinds(replies)
    assert _step(talk) == "weight"
    assert _events(db) == []


# ---------------------------------------------------------------------- crisis


def test_crisis_mid_flow_shows_the_card_then_offers_what_next_not_the_next_question(
    talk: Conversations, db: SqliteStore
) -> None:
    talk.start(SAM, "hard-day")
    replies = talk.receive(SAM, CRISIS)
    assert _kinds(replies) == ["signpost", "after_crisis"]
    offer = replies[1]
    assert isinstance(offer, AfterCrisis)
    assert [c.value for c in offer.choices] == ["carry_on", "stop", "numbers"]
    assert offer.reminder == talk.signposts.reminder  # shown once, here
    assert _events(db) == ["signpost_shown"]

    # An ordinary answer now does not slip past the offer: it is offered again.
    again = talk.receive(SAM, "A long shift")
    assert _kinds(again) == ["after_crisis"]
    assert isinstance(again[0], AfterCrisis) and again[0].reason and not again[0].reminder
    session = db.load_session(SAM)
    assert session is not None and session.answers == {}


@pytest.mark.parametrize("how", ["typed", "clicked"])
def test_carry_on_asks_the_same_question_again_with_no_reminder_under_later_ones(
    talk: Conversations, how: str
) -> None:
    replies = _answered(talk, how, CRISIS, typed="I'm safe, carry on", clicked="carry_on")
    assert _kinds(replies) == ["say", "question"]
    assert isinstance(replies[-1], Question) and replies[-1].step_id == "what_happened"
    later = talk.receive(SAM, "A long shift")
    assert talk.signposts.reminder not in [getattr(r, "text", "") for r in later]
    assert _step(talk) == "weight"


@pytest.mark.parametrize("how", ["typed", "clicked"])
def test_stop_here_pauses_keeping_the_answers_and_closes_with_the_crisis_lines(
    talk: Conversations, db: SqliteStore, how: str
) -> None:
    replies = _answered(talk, how, "A parent complaint", CRISIS, typed="stop here", clicked="stop")
    closing = replies[-1]
    assert isinstance(closing, Signpost) and closing.closing and closing.resources
    assert not any(isinstance(r, SupervisorSuggestion) for r in replies)
    session = db.load_session(SAM)
    assert session is not None and session.status == "paused"
    assert session.answers == {"what_happened": "A parent complaint"}
    resumed = talk.receive(SAM, "resume")
    assert isinstance(resumed[-1], Question) and resumed[-1].step_id == "weight"


@pytest.mark.parametrize("how", ["typed", "clicked"])
def test_show_the_numbers_again_shows_the_card_and_the_offer(
    talk: Conversations, db: SqliteStore, how: str
) -> None:
    replies = _answered(talk, how, CRISIS, typed="numbers", clicked="numbers")
    assert _kinds(replies) == ["signpost", "after_crisis"]
    assert _events(db) == ["signpost_shown", "signpost_shown"]


def test_a_reflection_that_ends_after_a_crisis_closes_with_the_crisis_lines_not_a_pitch(
    talk: Conversations, db: SqliteStore
) -> None:
    talk.start(SAM, "hard-day")
    talk.receive(SAM, CRISIS)
    talk.after_crisis(SAM, "carry_on")
    replies: list[Reply] = []
    for answer in ["A parent complaint", "2", "skip", "1", "1", "2", "Walk home", "2"]:
        replies = talk.receive(SAM, answer)
    assert _kinds(replies)[-3:] == ["summary", "say", "signpost"]
    assert not any(isinstance(r, SupervisorSuggestion) for r in replies)
    closing = replies[-1]
    assert isinstance(closing, Signpost) and closing.closing
    assert talk.signposts.reminder in closing.text
    assert "nudge_shown" not in _events(db)
    assert len(db.reflections(SAM)) == 1


def test_stopping_a_reflection_after_a_crisis_closes_with_the_crisis_lines(
    talk: Conversations,
) -> None:
    talk.start(SAM, "hard-day")
    talk.receive(SAM, CRISIS)
    talk.after_crisis(SAM, "carry_on")
    replies = talk.receive(SAM, "stop")
    assert _kinds(replies) == ["say", "signpost"]
    assert isinstance(replies[-1], Signpost) and replies[-1].closing


def test_crisis_outside_a_flow_shows_the_card_only(talk: Conversations, db: SqliteStore) -> None:
    replies = talk.receive(SAM, CRISIS)
    assert _kinds(replies) == ["signpost"]
    assert db.load_session(SAM) is None


# ---------------------------------------------------------------------- check-in


def test_the_check_in_asks_directly_with_three_answers_and_records_only_that_it_asked(
    talk: Conversations, db: SqliteStore
) -> None:
    talk.start(SAM, "hard-day")
    replies = talk.receive(SAM, CLOSE_TO_RISK)
    assert _kinds(replies) == ["check_in"]
    check_in = replies[0]
    assert isinstance(check_in, CheckIn)
    assert [c.value for c in check_in.choices] == ["yes", "not_sure", "no"]
    assert _events(db) == ["check_in_asked"]
    assert _step(talk) == "what_happened"  # nothing moved on


@pytest.mark.parametrize("answer", ["yes", "not_sure", "clicked yes", "clicked not_sure", "maybe"])
def test_anything_but_no_shows_the_crisis_card(
    talk: Conversations, db: SqliteStore, answer: str
) -> None:
    talk.start(SAM, "hard-day")
    talk.receive(SAM, CLOSE_TO_RISK)
    if answer.startswith("clicked "):
        replies = talk.check_in_answered(SAM, answer.removeprefix("clicked "))
    else:
        replies = talk.receive(SAM, answer.replace("_", " "))
    assert _kinds(replies) == ["signpost", "after_crisis"]
    assert isinstance(replies[0], Signpost) and not replies[0].gentle
    assert _events(db) == ["check_in_asked", "check_in_answered", "signpost_shown"]
    session = db.load_session(SAM)
    assert session is not None and session.signposted and session.held is None


@pytest.mark.parametrize("how", ["typed", "clicked"])
def test_no_carries_on_and_the_words_that_led_to_the_question_are_the_answer(
    talk: Conversations, db: SqliteStore, how: str
) -> None:
    replies = _answered(talk, how, CLOSE_TO_RISK, typed="No", clicked="no")
    assert "signpost" not in _kinds(replies)
    assert isinstance(replies[-1], Question) and replies[-1].step_id == "weight"
    session = db.load_session(SAM)
    assert session is not None
    assert session.answers["what_happened"] == CLOSE_TO_RISK  # nothing lost
    assert session.waiting is None and session.held is None and not session.signposted
    assert "signpost_shown" not in _events(db)


def test_a_check_in_survives_a_restart(talk: Conversations, db: SqliteStore) -> None:
    talk.start(SAM, "hard-day")
    talk.receive(SAM, CLOSE_TO_RISK)
    restarted = Conversations(
        library=talk.library, store=db, signposts=talk.signposts, clock=talk.clock, screen=screen
    )
    replies = restarted.receive(SAM, "no")
    assert isinstance(replies[-1], Question) and replies[-1].step_id == "weight"


def test_a_click_on_the_question_while_the_check_in_waits_is_not_taken(
    talk: Conversations, db: SqliteStore
) -> None:
    talk.start(SAM, "hard-day")
    talk.receive(SAM, "A parent complaint")
    talk.receive(SAM, CLOSE_TO_RISK)  # typed at the scale question: refused by it, but screened
    replies = talk.choose(SAM, flow_id="hard-day", step_id="weight", value=3)
    assert _kinds(replies) == ["check_in"]
    session = db.load_session(SAM)
    assert session is not None and "weight" not in session.answers


def test_the_check_in_outside_a_flow_takes_a_typed_no_then_offers_flows(
    talk: Conversations, db: SqliteStore
) -> None:
    assert _kinds(talk.receive(SAM, CLOSE_TO_RISK)) == ["check_in"]
    replies = talk.receive(SAM, "no, I'm not")
    assert isinstance(replies[-1], FlowOffer)
    assert "signpost_shown" not in _events(db)
    # Answered: the next words are read as usual, not as an answer to the question.
    assert isinstance(talk.receive(SAM, "hello")[-1], FlowOffer)


def test_the_check_in_outside_a_flow_with_anything_but_no_shows_the_card(
    talk: Conversations,
) -> None:
    talk.receive(SAM, CLOSE_TO_RISK)
    assert _kinds(talk.receive(SAM, "not sure")) == ["signpost"]


def test_a_stale_no_changes_nothing_but_a_stale_yes_still_shows_the_card(
    talk: Conversations,
) -> None:
    talk.start(SAM, "hard-day")
    assert _kinds(talk.check_in_answered(SAM, "no")) == ["say"]
    assert _step(talk) == "what_happened"
    assert _kinds(talk.check_in_answered(SAM, "yes")) == ["signpost", "after_crisis"]


# ---------------------------------------------------------------------- others


def test_the_gentle_card_once_per_conversation_without_crisis_mode(
    talk: Conversations, db: SqliteStore
) -> None:
    talk.start(SAM, "hard-day")
    first = talk.receive(SAM, OTHERS)
    assert isinstance(first[0], Signpost) and first[0].gentle
    assert isinstance(first[-1], Question) and first[-1].step_id == "weight"  # answer taken
    second = talk.receive(SAM, "3")
    assert talk.signposts.reminder not in [getattr(r, "text", "") for r in second]
    talk.receive(SAM, "A colleague talked about suicide in supervision")
    assert _events(db) == ["gentle_signpost_shown"]
    session = db.load_session(SAM)
    assert session is not None and not session.signposted and session.waiting is None


def test_the_gentle_card_alone_does_not_make_the_supervisor_offer_firm(
    talk: Conversations,
) -> None:
    talk.start(SAM, "hard-day")
    replies: list[Reply] = talk.receive(SAM, OTHERS)
    for answer in ["4", "skip", "1", "1", "4", "Walk home", "4"]:
        replies = talk.receive(SAM, answer)
    nudge = replies[-1]
    assert isinstance(nudge, SupervisorSuggestion) and not nudge.firm


def test_the_gentle_card_comes_back_in_a_later_conversation(
    talk: Conversations, ticking: Ticking
) -> None:
    talk.receive(SAM, OTHERS)
    assert "signpost" not in _kinds(talk.receive(SAM, OTHERS))
    ticking.now += CONVERSATION_GAP
    assert _kinds(talk.receive(SAM, OTHERS))[0] == "signpost"


# ---------------------------------------------------------------------- other surfaces


def test_screen_input_answers_text_typed_outside_receive(
    talk: Conversations, db: SqliteStore
) -> None:
    talk.start(SAM, "hard-day")
    crisis = talk.screen_input(SAM, CRISIS)
    assert not crisis.go_on and _kinds(crisis.replies) == ["signpost", "after_crisis"]
    talk.after_crisis(SAM, "carry_on")
    check_in = talk.screen_input(SAM, CLOSE_TO_RISK)
    assert not check_in.go_on and _kinds(check_in.replies) == ["check_in"]
    replies = talk.check_in_answered(SAM, "no")  # nothing was held: the question again
    assert isinstance(replies[-1], Question) and replies[-1].step_id == "what_happened"
    gentle = talk.screen_input(SAM, OTHERS)
    assert gentle.go_on and _kinds(gentle.replies) == ["signpost"]
    assert talk.screen_input(SAM, "hard day").go_on


def test_every_command_word_is_text() -> None:
    """YAML reads a bare `no` as false: every listed word must stay a word."""
    import yaml

    data = yaml.safe_load((ROOT / "bot" / "engine" / "messages.yaml").read_text())
    odd = {
        key: [w for w in words if not isinstance(w, str)] for key, words in data["words"].items()
    }
    assert {key: found for key, found in odd.items() if found} == {}
