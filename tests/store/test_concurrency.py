"""Many writers at once (threads sharing a store, and other processes on the same file) lose no
answer and never surface "database is locked"."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from pathlib import Path

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, reflection
from tests.store.writers import write_many

THREADS = 20
PROCESSES = 2
EACH = 5


def test_twenty_threads_and_two_processes_lose_nothing(db_path: Path) -> None:
    store = SqliteStore.open(db_path, secret=SECRET)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=write_many, args=(str(db_path), f"proc{n}", EACH))
        for n in range(PROCESSES)
    ]
    failures: list[BaseException] = []
    claims: list[bool] = []
    start = threading.Barrier(THREADS)

    def thread_writer(name: str) -> None:
        try:
            start.wait()
            person = Person(f"T1:{name}")
            for n in range(EACH):
                at = NOW + dt.timedelta(seconds=n)
                store.save_session(person, Session("hard-day", "weight", at, {"step": n}))
                store.finish(person, reflection(at=at, text=f"{name} answer {n}"))
                claims.append(store.claim_event(f"Ev-{name}-{n % 2}", at=at))
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    for process in processes:
        process.start()
    threads = [threading.Thread(target=thread_writer, args=(f"t{n}",)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for process in processes:
        process.join(timeout=60)

    assert failures == []
    assert claims.count(True) == THREADS * 2  # each event id claimed exactly once
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    names = [f"t{n}" for n in range(THREADS)] + [f"proc{n}" for n in range(PROCESSES)]
    for name in names:
        kept = store.reflections(Person(f"T1:{name}"), limit=None)
        assert sorted(r.answers[0].value for r in kept) == sorted(
            f"{name} answer {n}" for n in range(EACH)
        )
        assert store.load_session(Person(f"T1:{name}")) is None
    store.close()
