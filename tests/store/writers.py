"""A writer process for the concurrency test (importable, so `spawn` can run it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, reflection


def write_many(path: str, name: str, count: int) -> None:
    """Save a session and finish a reflection `count` times, as person `name`."""
    person = Person(f"T1:{name}")
    with SqliteStore.open(Path(path), secret=SECRET) as store:
        for n in range(count):
            at = NOW + dt.timedelta(seconds=n)
            store.save_session(person, Session("hard-day", "weight", at, {"what_happened": n}))
            store.finish(person, reflection(at=at, text=f"{name} answer {n}"))
            store.record(person, "nudge_shown", at=at, flow_id="hard-day")
