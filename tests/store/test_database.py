"""The connection layer: one connection per thread, closed when the thread ends; transactions
that commit whole or not at all; the pragmas issue 3 asks for."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from bot.store.database import BUSY_TIMEOUT_MS, DatabaseFiles, create_private_file


@pytest.fixture
def files(tmp_path: Path) -> DatabaseFiles:
    path = tmp_path / "reflect.db"
    create_private_file(path)
    create_private_file(tmp_path / "reflect-keys.db")
    files = DatabaseFiles(path, keys_path=tmp_path / "reflect-keys.db")
    with files.writing() as db:
        db.execute("CREATE TABLE notes (n INTEGER)")
    return files


def test_every_connection_is_set_up_as_promised(files: DatabaseFiles) -> None:
    db = files.connection()
    pragma = {
        name: db.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "secure_delete")
    }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
        "secure_delete": 1,
    }
    assert db.execute("PRAGMA keys.journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA keys.synchronous").fetchone()[0] == 2
    files.close()


def test_a_failed_write_leaves_nothing_behind(files: DatabaseFiles) -> None:
    with pytest.raises(ZeroDivisionError), files.writing() as db:
        db.execute("INSERT INTO notes VALUES (1)")
        _ = 1 / 0
    with files.writing() as db:
        db.execute("INSERT INTO notes VALUES (2)")
        with files.writing() as inner:  # nested: one transaction
            inner.execute("INSERT INTO notes VALUES (3)")
    with files.reading() as db:
        assert [r[0] for r in db.execute("SELECT n FROM notes ORDER BY n")] == [2, 3]
    files.close()


def test_writing_inside_a_read_transaction_is_refused(files: DatabaseFiles) -> None:
    with files.reading(), pytest.raises(RuntimeError), files.writing():
        pass
    files.close()


def test_connections_of_finished_threads_are_closed(files: DatabaseFiles) -> None:
    files.connection()  # this thread's

    def use() -> None:
        with files.reading() as db:
            db.execute("SELECT count(*) FROM notes").fetchone()

    threads = [threading.Thread(target=use) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gc.collect()
    assert files.open_connections == 1
    files.close()
    assert files.open_connections == 0
