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


def test_a_backup_taken_while_writing_is_consistent(db_path: Path, tmp_path: Path) -> None:
    store = SqliteStore.open(db_path, secret=SECRET)
    stop = threading.Event()
    written: list[str] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set() or n < 10:
            written.append(store.finish(Person(f"T1:U{n % 7}"), reflection(text=f"answer {n}")))
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    backups = []
    while len(written) < 5:  # let the writer get going
        threading.Event().wait(0.01)
    for n in range(3):
        backups.append(tmp_path / f"backup-{n}.db")
        store.backup(backups[-1])
    stop.set()
    writer.join(timeout=30)
    for path in backups:
        with SqliteStore.open(path, secret=SECRET, keys_path=store.keys_path) as copy:
            with copy.reading() as db:
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                (torn,) = db.execute(
                    "SELECT count(*) FROM reflections r WHERE"
                    " (SELECT count(*) FROM answers a WHERE a.reflection_id = r.id) != 3"
                ).fetchone()
                (count,) = db.execute("SELECT count(*) FROM reflections").fetchone()
            assert torn == 0 and 0 < count <= len(written)
            assert all(
                len(r.answers) == 3 for n in range(7) for r in copy.reflections(Person(f"T1:U{n}"))
            )
    store.close()
