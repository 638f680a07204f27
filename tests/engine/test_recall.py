"""What a reflection remembers of earlier ones: the next step to follow up, what happened since
the last supervision, and the flows the leader's answers point to (offered as buttons)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from bot.engine.authoring.loading import load_library
from bot.engine.conversation import Conversations
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.recall import when
from bot.engine.replies import FlowOffer, Question, Reply, Summary
from bot.engine.signposts import load_signposts
from tests.conftest import NOW, ROOT, Clock
from tests.fakes import MemoryStore

SAM = Person("terminal:sam", first_name="Sam", timezone="Europe/London")


@functools.cache
def _library() -> FlowLibrary:
    return load_library(sorted(Path(ROOT / "flows").glob("*.yaml")), default="hard-day").library


def _conversations(store: MemoryStore, clock: Clock) -> Conversations:
    return Conversations(
        library=_library(),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        clock=clock,
    )


def _walk(conversations: Conversations, flow_id: str, answers: dict[str, str]) -> list[Reply]:
    """Answer each question by its step id (the first option or "An answer" otherwise)."""
    replies = conversations.start(SAM, flow_id)
    for _ in range(40):
        question = conversations.current(SAM)
        if question is None:
            return replies
        given = answers.get(question.step_id)
        if given is None:
            given = "1" if question.step_kind != "text" else f"An answer to {question.step_id}"
        replies = conversations.receive(SAM, given)
    raise AssertionError("the flow did not end")


def test_when_reads_like_a_person_would_say_it() -> None:
    monday = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    assert when(monday, now=monday, person=SAM) == when(monday, now=monday, person=SAM)
    said = {
        days: when(monday, now=monday + dt.timedelta(days=days), person=SAM)
        for days in (0, 1, 3, 10)
    }
    assert len(set(said.values())) == 4
    assert "Monday" in said[3] and "16 November" in said[10]


def test_the_weekly_check_in_offers_the_flow_its_answer_points_to(clock: Clock) -> None:
    conversations = _conversations(MemoryStore(), clock)
    replies = _walk(conversations, "weekly-checkin", {"focus": "2"})  # someone in my team
    summary = next(r for r in replies if isinstance(r, Summary))
    offers = [r for r in replies if isinstance(r, FlowOffer)]
    assert [choice.value for offer in offers for choice in offer.flows] == ["someone-in-your-team"]
    assert "someone-in-your-team" not in summary.text, "the kept summary holds no instruction"


def test_preparing_for_supervision_gathers_what_happened_since_the_last_time(
    clock: Clock,
) -> None:
    store = MemoryStore()
    conversations = _conversations(store, clock)
    _walk(conversations, "prepare-supervision", {})
    clock.now = NOW + dt.timedelta(days=2)
    _walk(conversations, "hard-day", {"next_step": "Ring the family at ten"})
    clock.now = NOW + dt.timedelta(days=3)
    _walk(conversations, "went-well", {"next_step": "skip"})
    clock.now = NOW + dt.timedelta(days=4)
    replies = conversations.start(SAM, "prepare-supervision")
    shown = "\n".join(r.text for r in replies if not isinstance(r, Question | FlowOffer))
    assert "Ring the family at ten" in shown
    titles = {flow.id: flow.title for flow in conversations.library}
    assert titles["hard-day"] in shown and titles["went-well"] in shown
    assert titles["prepare-supervision"] not in shown.split("\n", 1)[1]
    session = store.load_session(SAM)
    assert session is not None and len(session.recall["since_last_supervision"]) == 2
