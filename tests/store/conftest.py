"""Fixtures for the store's tests: a real SQLite file under tmp_path, and a fixed secret."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.engine.reflections import Answer, Reflection
from bot.store.sqlite import SqliteStore

SECRET = b"test-secret-0123456789-abcdefghijklmnop"
OTHER_SECRET = b"another-secret-0123456789-abcdefghijklm"
NOW = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)


def reflection(
    *,
    flow_id: str = "hard-day",
    at: dt.datetime = NOW,
    summary: str = "You noticed what mattered.",
    text: str = "A parent complaint",
    scale: int | None = 2,
) -> Reflection:
    answers = [Answer("what_happened", "text", text)]
    if scale is not None:
        answers.append(Answer("weight", "scale", scale))
    answers.append(Answer("need", "choice", "rest"))
    return Reflection(
        flow_id=flow_id,
        started_at=at - dt.timedelta(minutes=4),
        finished_at=at,
        summary=summary,
        answers=tuple(answers),
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "reflect.db"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore.open(db_path, secret=SECRET, clock=lambda: NOW)
    yield store
    store.close()


@pytest.fixture
def sam() -> Person:
    return Person("T0SAMTEAM:U0SAMUSER", first_name="Sam")


@pytest.fixture
def alex() -> Person:
    return Person("T0SAMTEAM:U0ALEXUSR", first_name="Alex")
