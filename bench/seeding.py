"""Filling a store with reflections quickly, through the store's own code.

Each reflection goes through `SqliteStore.finish` (redaction, a per-person data key, AES-GCM
sealing, the same rows as a real finish), but many of them share one writing transaction:
`finish` opens a writing transaction, and inside another it simply becomes part of it. So the
rows are exactly what the bot would have written, without one fsync per reflection.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.engine.people import Person
from bot.engine.reflections import Answer, Reflection
from bot.store.sqlite import SqliteStore

#: Reflections per writing transaction while seeding.
BATCH = 5_000
SUMMARY = (
    "What happened: a long shift with two staff off sick and a difficult conversation with a "
    "family. How heavy it felt: 2 of 5. What would help: rest and switch off."
)


def person(number: int) -> Person:
    """The same identity the Slack app gives user U{number:05d} in workspace T1."""
    return Person(id=f"T1:U{number:05d}")


def seed(store: SqliteStore, *, reflections: int, people: int) -> None:
    """Store `reflections` finished hard-day reflections spread over `people` people."""
    _seed_range(store, start=0, until=reflections, people=people)


def _seed_range(store: SqliteStore, *, start: int, until: int, people: int) -> None:
    first = dt.datetime(2026, 1, 5, 18, tzinfo=dt.UTC)
    done = start
    while done < until:
        with store.writing():
            for number in range(done, min(done + BATCH, until)):
                began = first + dt.timedelta(minutes=number)
                store.finish(
                    person(number % people),
                    Reflection(
                        flow_id="hard-day",
                        started_at=began,
                        finished_at=began + dt.timedelta(minutes=3),
                        summary=SUMMARY,
                        answers=(
                            Answer("what_happened", "text", "A long shift, two staff off sick."),
                            Answer("weight", "scale", 2),
                            Answer("need", "choice", "rest"),
                        ),
                    ),
                )
        done = min(done + BATCH, until)


def seeded_store(path: Path, *, secret: bytes, reflections: int, people: int) -> SqliteStore:
    store = SqliteStore.open(path, secret=secret)
    seed(store, reflections=reflections, people=people)
    return store


def seed_more(store: SqliteStore, *, start: int, until: int, people: int) -> None:
    """Bring a store holding `start` seeded reflections up to `until`."""
    if until > start:
        _seed_range(store, start=start, until=until, people=people)


def give_keys(store: SqliteStore, *, people: int) -> None:
    """Make sure `people` people have their data key (as anyone who has used Reflect once
    does): a session saved and dropped, through the store, in one transaction."""
    from bot.engine.sessions import Session

    moment = dt.datetime(2026, 1, 5, 18, tzinfo=dt.UTC)
    with store.writing():
        for number in range(people):
            who = person(number)
            store.save_session(
                who, Session(flow_id="hard-day", step_id="what_happened", started_at=moment)
            )
            store.drop_session(who)


def user_id(number: int) -> str:
    return f"U{number:05d}"
