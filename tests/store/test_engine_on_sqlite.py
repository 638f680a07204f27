"""The engine's conversation service on the real store: a flow walked, paused, survived a
restart, resumed and finished, with what the leader sees unchanged and what is kept redacted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.replies import Question, Reply, Summary
from bot.engine.signposts import load_signposts
from bot.store.sqlite import SqliteStore
from tests.conftest import ROOT, Clock
from tests.store.conftest import SECRET

LEADER = Person("T0WARD:U0MANAGER", first_name="Morgan")
CANARY = "CassowaryLantern"
FIRST_ANSWER = f"{CANARY}: the family rang 07911 123456 twice"


def _conversations(store: SqliteStore, flow: Flow) -> Conversations:
    return Conversations(
        library=FlowLibrary([flow]),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        clock=Clock(),
    )


def _question(replies: list[Reply]) -> Question | None:
    questions = [r for r in replies if isinstance(r, Question)]
    return questions[-1] if questions else None


def _answer_for(question: Question) -> str:
    if question.step_kind == "scale":
        return "2"
    if question.step_kind in ("choice", "multi"):
        return "1"
    return "Something ordinary"


def answer_to_the_end(question: Question | None, send: Callable[[str], list[Reply]]) -> list[Reply]:
    """Answer each question in turn until the summary; the replies that carry it."""
    replies: list[Reply] = []
    for _ in range(30):
        assert question is not None
        replies = send(_answer_for(question))
        question = _question(replies)
        if any(isinstance(r, Summary) for r in replies):
            break
    return replies


def test_a_flow_survives_a_restart_and_is_kept_redacted(db_path: Path, hard_day: Flow) -> None:
    with SqliteStore.open(db_path, secret=SECRET) as store:
        talk = _conversations(store, hard_day)
        first = _question(talk.start(LEADER, hard_day.id))
        assert first is not None and first.step_kind == "text"
        second = _question(talk.receive(LEADER, FIRST_ANSWER))
        talk.receive(LEADER, "pause")

    with SqliteStore.open(db_path, secret=SECRET) as store:  # the bot restarted
        talk = _conversations(store, hard_day)
        question = _question(talk.receive(LEADER, "resume"))
        assert question is not None and second is not None
        assert question.step_id == second.step_id
        replies = answer_to_the_end(question, lambda text: talk.receive(LEADER, text))
        (summary,) = [r for r in replies if isinstance(r, Summary)]
        (kept,) = store.reflections(LEADER)

    assert kept.id == summary.reflection_id
    assert kept.answers[0].value == f"{CANARY}: the family rang [phone] twice"
    # The leader saw their own words in the summary; the store kept them redacted.
    assert "07911 123456" in summary.text
    assert "07911" not in kept.summary and "[phone]" in kept.summary
    stored = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert CANARY.encode() not in stored and b"U0MANAGER" not in stored
