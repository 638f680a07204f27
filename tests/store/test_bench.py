"""Load and fault tests for the store (`make bench`; excluded from `make test`)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.store.sqlite import SqliteStore
from tests.store.conftest import SECRET, reflection
from tests.store.writers import timed_writes, write_until_killed

pytestmark = pytest.mark.bench

#: Slack wants an answer within 3 seconds; one step's writes must fit well inside it.
SLACK_BUDGET = 3.0


def test_heavy_contention_stays_inside_slacks_budget(db_path: Path) -> None:
    SqliteStore.open(db_path, secret=SECRET).close()
    context = multiprocessing.get_context("spawn")
    pipes = [context.Pipe(duplex=False) for _ in range(4)]
    processes = [
        context.Process(target=timed_writes, args=(str(db_path), f"p{n}", 60, pipes[n][1]))
        for n in range(4)
    ]
    for process in processes:
        process.start()
    store = SqliteStore.open(db_path, secret=SECRET)
    worst: list[float] = []
    failures: list[BaseException] = []

    def thread_writer(n: int) -> None:
        try:
            person = Person(f"T1:t{n}")
            for m in range(30):
                started = time.monotonic()
                store.finish(person, reflection(text=f"t{n} answer {m}"))
                worst.append(time.monotonic() - started)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=thread_writer, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    worst += [receiver.recv() for receiver, _ in pipes]
    for process in processes:
        process.join()
    assert failures == [] and [p.exitcode for p in processes] == [0] * 4
    assert max(worst) < SLACK_BUDGET, f"slowest write took {max(worst):.2f}s"
    for n in range(20):
        assert len(store.reflections(Person(f"T1:t{n}"), limit=None)) == 30
    for n in range(4):
        assert len(store.reflections(Person(f"T1:p{n}"), limit=None)) == 60
    store.close()


def test_a_killed_writer_loses_nothing_it_reported_as_kept(db_path: Path) -> None:
    SqliteStore.open(db_path, secret=SECRET).close()
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=write_until_killed, args=(str(db_path), "crash", sender))
    process.start()
    kept: list[str] = []
    deadline = time.monotonic() + 30
    while len(kept) < 40 and time.monotonic() < deadline:
        if receiver.poll(0.1):
            kept.append(receiver.recv())
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)  # mid-write, with no chance to clean up
    process.join()
    while receiver.poll():
        kept.append(receiver.recv())
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with SqliteStore.open(db_path, secret=SECRET) as store:
        found = {r.id for r in store.reflections(Person("T1:crash"), limit=None)}
    assert len(kept) >= 40 and set(kept) <= found
