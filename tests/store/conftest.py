"""Fixtures for the store's tests: a real SQLite file under tmp_path, and a fixed secret."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.engine.reflections import Answer, Reflection
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.pg_fixtures import PgUrls

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
    answers: tuple[Answer, ...] | None = None,
) -> Reflection:
    """A hard day's reflection, finished at `at`: by default a text, a scale (unless None)
    and a choice answer; or the `answers` given."""
    if answers is None:
        answers = (
            Answer("what_happened", "text", text),
            *([] if scale is None else [Answer("weight", "scale", scale)]),
            Answer("need", "choice", "rest"),
        )
    return Reflection(
        flow_id=flow_id,
        started_at=at - dt.timedelta(minutes=4),
        finished_at=at,
        summary=summary,
        answers=answers,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "reflect.db"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore.open(db_path, secret=SECRET, clock=lambda: NOW)
    yield store
    store.close()


def open_pg(urls: PgUrls, *, secret: bytes = SECRET, **options: object) -> PostgresStore:
    """The PostgreSQL store on a test's own data and keys schemas (a small pool)."""
    return PostgresStore.open(
        urls.url,
        keys_url=urls.keys_url,
        secret=secret,
        pool_size=options.pop("pool_size", 3),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def pg_store(pg_urls: PgUrls) -> Iterator[PostgresStore]:
    store = open_pg(pg_urls, clock=lambda: NOW)
    yield store
    store.close()


@pytest.fixture
def sam() -> Person:
    return Person("T0SAMTEAM:U0SAMUSER", first_name="Sam")


@pytest.fixture
def alex() -> Person:
    return Person("T0SAMTEAM:U0ALEXUSR", first_name="Alex")
