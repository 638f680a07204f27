"""A writer process for the PostgreSQL crash test (importable, so `spawn` can run it)."""

from __future__ import annotations

import datetime as dt

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store.postgres import PostgresStore
from tests.store.conftest import NOW, SECRET, reflection

SHARED = Person("T1:USHARED")


def finish_forever(url: str, keys_url: str, name: str, done: object) -> None:
    """Handle one shared person's requests forever, each as the Slack app does (one writing
    transaction: read the session, save it, finish), reporting each committed id on `done`."""
    with PostgresStore.open(url, keys_url=keys_url, secret=SECRET, pool_size=1) as store:
        n = 0
        while True:
            at = NOW + dt.timedelta(seconds=n)
            with store.writing():
                store.load_session(SHARED)
                store.save_session(SHARED, Session("hard-day", "weight", at, {"n": n}))
                reflection_id = store.finish(SHARED, reflection(at=at, text=f"{name} {n}"))
            done.send(reflection_id)  # type: ignore[attr-defined]
            n += 1
