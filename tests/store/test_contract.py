"""The behaviour the engine relies on, checked against the SQLite store, the PostgreSQL store
and the fake.

The same tests run on tests/fakes.py's MemoryStore, so the fake the engine's tests use cannot
drift from the real store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.engine.reflections import (
    Answer,
    FollowUp,
    FollowUpState,
    Reflection,
    ReflectionStore,
    ScaleMark,
)
from bot.engine.sessions import Session
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.fakes import MemoryStore
from tests.store.conftest import NOW, SECRET, open_pg, reflection

SAM = Person("T1:U1", first_name="Sam")
ALEX = Person("T1:U2")


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReflectionStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    store: SqliteStore | PostgresStore
    if request.param == "postgres":
        store = open_pg(request.getfixturevalue("pg_urls"))
    else:
        store = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)
    yield store
    store.close()


def _session(**changes: object) -> Session:
    base = Session(flow_id="hard-day", step_id="weight", started_at=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_saved_session_comes_back_as_it_was(any_store: ReflectionStore) -> None:
    session = _session(
        answers={"what_happened": "Rattled, “badly” — naïve", "weight": 2, "need": ["a", "b"]},
        path=("what_happened", "weight"),
        status="paused",
        signposted=True,
    )
    any_store.save_session(SAM, session)
    assert any_store.load_session(SAM) == session
    assert any_store.load_session(ALEX) is None


def test_saving_again_replaces_the_session(any_store: ReflectionStore) -> None:
    any_store.save_session(SAM, _session(step_id="weight"))
    any_store.save_session(SAM, _session(step_id="need"))
    loaded = any_store.load_session(SAM)
    assert loaded is not None and loaded.step_id == "need"


def test_dropping_a_session_removes_only_that_persons(any_store: ReflectionStore) -> None:
    any_store.save_session(SAM, _session())
    any_store.save_session(ALEX, _session())
    any_store.drop_session(SAM)
    any_store.drop_session(SAM)  # dropping nothing is fine
    assert any_store.load_session(SAM) is None
    assert any_store.load_session(ALEX) is not None


def test_finish_keeps_the_reflection_and_drops_the_session(any_store: ReflectionStore) -> None:
    any_store.save_session(SAM, _session())
    kept = reflection()
    reflection_id = any_store.finish(SAM, kept)
    assert any_store.load_session(SAM) is None
    (stored,) = any_store.reflections(SAM)
    assert stored.id == reflection_id
    assert (stored.flow_id, stored.started_at, stored.finished_at) == (
        kept.flow_id,
        kept.started_at,
        kept.finished_at,
    )
    assert stored.summary == kept.summary
    assert stored.answers == kept.answers
    assert any_store.reflections(ALEX) == []


def test_reflections_are_newest_first_and_limited(any_store: ReflectionStore) -> None:
    ids = [
        any_store.finish(SAM, reflection(at=NOW + dt.timedelta(hours=hour), summary=f"n{hour}"))
        for hour in range(5)
    ]
    assert len(set(ids)) == 5
    newest = any_store.reflections(SAM, limit=3)
    assert [r.summary for r in newest] == ["n4", "n3", "n2"]
    assert [r.id for r in any_store.reflections(SAM, limit=None)] == ids[::-1]


def test_events_are_per_person_and_the_latest_is_found(any_store: ReflectionStore) -> None:
    assert any_store.last_event(SAM, "nudge_firm_shown") is None
    any_store.record(SAM, "nudge_firm_shown", at=NOW, flow_id="hard-day")
    any_store.record(SAM, "nudge_firm_shown", at=NOW + dt.timedelta(days=3))
    any_store.record(SAM, "nudge_firm_shown", at=NOW + dt.timedelta(days=1))
    any_store.record(ALEX, "nudge_firm_shown", at=NOW + dt.timedelta(days=9))
    # Only the day is kept, never the time (midnight UTC of the latest).
    latest = (NOW + dt.timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert any_store.last_event(SAM, "nudge_firm_shown") == latest
    assert any_store.last_event(SAM, "nudge_shown") is None


def test_forget_erases_one_person_entirely(any_store: ReflectionStore) -> None:
    any_store.finish(SAM, reflection())
    any_store.finish(SAM, reflection(at=NOW + dt.timedelta(hours=1)))
    any_store.save_session(SAM, _session())
    any_store.record(SAM, "nudge_shown", at=NOW, flow_id="hard-day")
    any_store.finish(ALEX, reflection())
    assert any_store.forget(SAM) == 2
    assert any_store.reflections(SAM) == []
    assert any_store.load_session(SAM) is None
    assert any_store.last_event(SAM, "nudge_shown") is None
    assert len(any_store.reflections(ALEX)) == 1
    assert any_store.forget(SAM) == 0


def test_a_person_can_start_again_after_forget(any_store: ReflectionStore) -> None:
    any_store.finish(SAM, reflection())
    any_store.forget(SAM)
    any_store.save_session(SAM, _session())
    any_store.finish(SAM, reflection(summary="fresh start"))
    assert [r.summary for r in any_store.reflections(SAM)] == ["fresh start"]


# ---------------------------------------------------------------------------- follow-up


def _with_next_step(
    text: str | None, *, at: dt.datetime = NOW, settles: FollowUp | None = None
) -> Reflection:
    answers: list[Answer] = [Answer("what_happened", "text", "A parent complaint")]
    if text is not None:
        answers.append(Answer("next_step", "text", text))
    return Reflection(
        flow_id="hard-day",
        started_at=at - dt.timedelta(minutes=4),
        finished_at=at,
        summary="s",
        answers=tuple(answers),
        next_step="next_step",
        follow_up=settles,
    )


def test_the_latest_next_step_comes_back_in_the_persons_words(any_store: ReflectionStore) -> None:
    assert any_store.open_next_step(SAM) is None
    first = any_store.finish(SAM, _with_next_step("Ring the family at ten"))
    found = any_store.open_next_step(SAM)
    assert found is not None
    assert (found.reflection_id, found.text, found.state) == (
        first,
        "Ring the family at ten",
        "open",
    )
    assert found.flow_id == "hard-day" and found.finished_at == NOW
    assert any_store.open_next_step(ALEX) is None


def test_a_newer_next_step_replaces_an_older_one_and_a_skipped_one_does_not(
    any_store: ReflectionStore,
) -> None:
    any_store.finish(SAM, _with_next_step("Older step"))
    newer = any_store.finish(SAM, _with_next_step("Newer step", at=NOW + dt.timedelta(hours=1)))
    any_store.finish(SAM, _with_next_step(None, at=NOW + dt.timedelta(hours=2)))
    any_store.finish(SAM, reflection(at=NOW + dt.timedelta(hours=3)))  # no next step at all
    found = any_store.open_next_step(SAM)
    assert found is not None and found.reflection_id == newer


@pytest.mark.parametrize(
    ("state", "still_open"), [("done", False), ("dropped", False), ("carried", True)]
)
def test_a_next_step_is_settled_by_the_reflection_that_answers_it(
    any_store: ReflectionStore, state: FollowUpState, still_open: bool
) -> None:
    first = any_store.finish(SAM, _with_next_step("Ring the family"))
    any_store.finish(
        SAM,
        _with_next_step(None, at=NOW + dt.timedelta(days=1), settles=FollowUp(first, state)),
    )
    found = any_store.open_next_step(SAM)
    if still_open:
        assert found is not None and (found.reflection_id, found.state) == (first, "carried")
    else:
        assert found is None


def test_one_person_cannot_settle_anothers_next_step(any_store: ReflectionStore) -> None:
    theirs = any_store.finish(ALEX, _with_next_step("Alex's step"))
    any_store.finish(SAM, _with_next_step(None, settles=FollowUp(theirs, "done")))
    found = any_store.open_next_step(ALEX)
    assert found is not None and found.state == "open"


def test_follow_up_can_be_switched_off_and_on_and_forget_resets_it(
    any_store: ReflectionStore,
) -> None:
    assert any_store.follow_up_wanted(SAM)
    any_store.want_follow_up(SAM, False)
    assert not any_store.follow_up_wanted(SAM) and any_store.follow_up_wanted(ALEX)
    any_store.want_follow_up(SAM, True)
    assert any_store.follow_up_wanted(SAM)
    any_store.want_follow_up(SAM, False)
    any_store.forget(SAM)
    assert any_store.follow_up_wanted(SAM)


def test_a_scale_answer_keeps_how_it_reads(any_store: ReflectionStore) -> None:
    mark = ScaleMark(min=1, max=5, heavy="max")
    kept = replace(reflection(), answers=(Answer("weight", "scale", 4, mark),))
    any_store.finish(SAM, kept)
    (stored,) = any_store.reflections(SAM)
    assert stored.answers == (Answer("weight", "scale", 4, mark),)
