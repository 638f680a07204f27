"""Property tests at the engine: arbitrary text, unicode and values go through
Conversations.receive/choose with the real SQLite store (encryption on). Nothing escapes as an
exception, and an answer is never lost: it is taken, or the question is asked again, saying
why.

Examples are bounded for `make test` (EXAMPLES); the `bench` marker runs many more."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import messages
from bot.engine import replies as kind
from bot.engine.conversation import Conversations, _normalise
from bot.engine.people import Person
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.store.sqlite import SqliteStore
from tests.slack.harness import library, signposts, supervisors

EXAMPLES = 50
MANY = 1000
REPLIES = (
    kind.Say,
    kind.Question,
    kind.FlowOffer,
    kind.SupervisorSuggestion,
    kind.Summary,
    kind.Signpost,
    kind.CheckIn,
    kind.AfterCrisis,
)
COMMANDS = frozenset().union(
    *(messages.words(key) for key in ("skip", "back", "pause", "stop", "help", "not_meant"))
)
_people = itertools.count()

#: Any unicode at all, lone surrogates included (JSON from Slack can carry them).
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
answer_text = any_text.filter(lambda text: _normalise(text) not in COMMANDS)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=8,
)
bounded = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
many = settings(max_examples=MANY, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def conversations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conversations]:
    store = SqliteStore.open(tmp_path_factory.mktemp("engine") / "reflect.db", secret=b"p" * 32)
    yield Conversations(
        library=library(),
        store=store,
        signposts=signposts(),
        suggestions=SuggestionPolicy(supervisors=supervisors()),
    )
    store.close()


def kept(text: str) -> str:
    """What can be stored of `text`: lone surrogates become "?"."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def someone() -> Person:
    return Person(id=f"T1:UPROP{next(_people)}", first_name="Sam")


def well_formed(replies: list[kind.Reply]) -> None:
    assert replies, "every input gets an answer"
    assert all(isinstance(reply, REPLIES) for reply in replies)


# ---------------------------------------------------------------------- anything, any time


def _anything_typed(conversations: Conversations, texts: list[str]) -> None:
    person = someone()
    for text in texts:
        well_formed(conversations.receive(person, text))
        unfinished = conversations.in_progress(person)
        assert unfinished is None or unfinished.status in ("active", "paused")


texts = st.lists(any_text | st.sampled_from([*sorted(COMMANDS), "hard-day"]), max_size=8)
test_anything_typed_at_any_moment_gets_an_answer = bounded(given(texts=texts)(_anything_typed))
test_anything_typed_many = pytest.mark.bench(many(given(texts=texts)(_anything_typed)))


# ---------------------------------------------------------------------- typed answers


def _typed_answer_kept(conversations: Conversations, text: str) -> None:
    person = someone()
    conversations.start(person, "hard-day")
    replies = conversations.receive(person, text)
    well_formed(replies)
    session = conversations.store.load_session(person)
    assert session is not None and session.status == "active"
    taken = session.answers.get("what_happened")
    if taken is not None:
        assert taken == kept(text).strip()
        assert session.step_id == "weight"
    else:  # not lost in silence: the same question, asked again with the reason
        again = [
            r for r in replies if isinstance(r, kind.Question) and r.step_id == "what_happened"
        ]
        assert again and again[-1].reason


test_a_typed_answer_is_kept_or_asked_again = bounded(given(text=answer_text)(_typed_answer_kept))
test_typed_answers_many = pytest.mark.bench(many(given(text=answer_text)(_typed_answer_kept)))


# ---------------------------------------------------------------------- clicked values


def _clicked_value(conversations: Conversations, value: Any) -> None:
    person = someone()
    conversations.start(person, "hard-day")
    conversations.receive(person, "A long shift.")
    replies = conversations.choose(person, flow_id="hard-day", step_id="weight", value=value)
    well_formed(replies)
    session = conversations.store.load_session(person)
    assert session is not None
    if "weight" in session.answers:
        assert session.answers["weight"] in range(1, 6)
        assert session.step_id != "weight"
    else:
        again = [r for r in replies if isinstance(r, kind.Question) and r.step_id == "weight"]
        assert again and again[-1].reason


test_any_clicked_value_is_taken_or_refused = bounded(given(value=json_like)(_clicked_value))
test_clicked_values_many = pytest.mark.bench(many(given(value=json_like)(_clicked_value)))


def _stale_click(conversations: Conversations, flow_id: str, step_id: str, value: Any) -> None:
    person = someone()
    conversations.start(person, "hard-day")
    before = conversations.store.load_session(person)
    well_formed(conversations.choose(person, flow_id=flow_id, step_id=step_id, value=value))
    assert conversations.store.load_session(person) == before


ids = any_text.filter(lambda text: text not in ("hard-day", "what_happened"))
test_a_click_on_another_question_changes_nothing = bounded(
    given(flow_id=ids, step_id=ids, value=json_like)(_stale_click)
)


# ---------------------------------------------------------------------- whole flows


def _whole_flow(conversations: Conversations, answers: list[str]) -> None:
    """Answers (any text) typed until the flow ends: one reflection, the text steps' answers
    in it as typed (after redaction, which these texts avoid), none lost or doubled."""
    person = someone()
    replies = conversations.start(person, "hard-day")
    typed: dict[str, str] = {}
    for text in itertools.cycle(answers):
        asked = [reply for reply in replies if isinstance(reply, kind.Question)]
        if not asked:
            break
        question = asked[-1]
        if question.step_kind == "text":
            replies = conversations.receive(person, text)
            typed.setdefault(question.step_id, text.strip())
        else:
            replies = conversations.receive(person, "1")
        assert len(typed) < 20
    kept = conversations.store.reflections(person, limit=None)
    assert len(kept) == 1
    stored = {a.step_id: a.value for a in kept[0].answers if a.kind == "text"}
    for step_id, value in stored.items():
        assert value == typed[step_id]


plain = st.text(alphabet=st.characters(categories=("L", "Zs")), min_size=1, max_size=80).filter(
    lambda text: text.strip() and _normalise(text) not in COMMANDS
)
test_a_whole_flow_keeps_every_answer_once = bounded(
    given(answers=st.lists(plain, min_size=1, max_size=4))(_whole_flow)
)


# ---------------------------------------------------------------------- a known failure


def test_a_lone_surrogate_is_kept_as_a_question_mark(conversations: Conversations) -> None:
    # JSON can carry a lone surrogate; UTF-8 cannot hold it, so it is kept as "?".
    person = someone()
    conversations.start(person, "hard-day")
    well_formed(conversations.receive(person, "I was \ud800 shaken"))
    session = conversations.store.load_session(person)
    assert session is not None and session.answers["what_happened"] == "I was ? shaken"
