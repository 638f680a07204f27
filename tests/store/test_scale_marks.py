"""Scale answers keep how they read, so history stays true when a scale is turned round."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from bot.engine.people import Person
from bot.engine.reflections import Answer, ScaleMark
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, reflection

SAM = Person("T1:U1")


def _kept(store: SqliteStore, value: int, mark: ScaleMark | None, *, hour: int) -> None:
    at = NOW + dt.timedelta(hours=hour)
    store.finish(
        SAM, reflection(at=at, summary="s", answers=(Answer("weight", "scale", value, mark),))
    )


def test_aggregates_read_every_scale_answer_with_higher_as_heavier(tmp_path: Path) -> None:
    path = tmp_path / "reflect.db"
    with SqliteStore.open(path, secret=SECRET) as store:
        _kept(store, 5, ScaleMark(1, 5, "max"), hour=0)  # very heavy, the new way round
        _kept(store, 1, ScaleMark(1, 5, "min"), hour=1)  # very heavy, the old way round
        _kept(store, 2, ScaleMark(1, 5, "max"), hour=2)
        activity = store.activity(since=NOW - dt.timedelta(days=1), until=NOW + dt.timedelta(1))
        kept = sorted(r.answers[0].value for r in store.reflections(SAM))
    assert sorted(fact.value for fact in activity.scales) == [2, 5, 5]
    assert kept == [1, 2, 5], "each answer is kept as it was given"
    with sqlite3.connect(path) as db:
        clear = db.execute("SELECT count(*) FROM answers WHERE value IS NOT NULL").fetchone()
    assert clear == (0,), "and sealed, like every answer"


def test_reading_back_gives_each_answer_its_own_mark(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "reflect.db", secret=SECRET) as store:
        _kept(store, 1, ScaleMark(1, 5, "min"), hour=0)
        _kept(store, 4, ScaleMark(0, 10, "max"), hour=1)
        newest, oldest = store.reflections(SAM)
    assert newest.answers[0].scale == ScaleMark(0, 10, "max")
    assert oldest.answers[0].scale == ScaleMark(1, 5, "min")
    assert oldest.answers[0].scale.heaviness(1) == 1.0
