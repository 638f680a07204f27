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


def write_until_killed(path: str, name: str, done: object) -> None:
    """Finish reflections forever, reporting each id on `done` (a Connection) once committed."""
    person = Person(f"T1:{name}")
    with SqliteStore.open(Path(path), secret=SECRET) as store:
        n = 0
        while True:
            at = NOW + dt.timedelta(seconds=n)
            store.save_session(person, Session("hard-day", "weight", at, {"n": n}))
            reflection_id = store.finish(person, reflection(at=at, text=f"answer {n}"))
            done.send(reflection_id)  # type: ignore[attr-defined]
            n += 1


def timed_writes(path: str, name: str, count: int, slowest: object) -> None:
    """Like write_many, reporting the slowest single store call (seconds) on `slowest`."""
    import time

    person = Person(f"T1:{name}")
    worst = 0.0
    with SqliteStore.open(Path(path), secret=SECRET) as store:
        for n in range(count):
            at = NOW + dt.timedelta(seconds=n)
            started = time.monotonic()
            store.save_session(person, Session("hard-day", "weight", at, {"n": n}))
            store.finish(person, reflection(at=at, text=f"{name} answer {n}"))
            worst = max(worst, time.monotonic() - started)
    slowest.send(worst)  # type: ignore[attr-defined]
