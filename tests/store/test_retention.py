"""Retention, event de-duplication and participation: what ages out, and what stays."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store import Store
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, reflection

YEAR_AGO = NOW - dt.timedelta(days=366)


@pytest.fixture(params=["sqlite", "pg"])
def either_store(request: pytest.FixtureRequest) -> Store:
    """The SQLite store, then the PostgreSQL one."""
    store: Store = request.getfixturevalue(f"{request.param}_store")
    return store


def test_purge_removes_what_is_older_than_the_cutoff(
    either_store: Store, sam: Person, alex: Person
) -> None:
    either_store.finish(sam, reflection(at=YEAR_AGO, summary="old"))
    either_store.finish(sam, reflection(at=NOW, summary="recent"))
    either_store.record(sam, "nudge_firm_shown", at=YEAR_AGO)
    either_store.finish(alex, reflection(at=YEAR_AGO, summary="alex old"))
    assert either_store.purge(older_than=NOW - dt.timedelta(days=365)) == 2
    assert [r.summary for r in either_store.reflections(sam)] == ["recent"]
    assert either_store.reflections(alex) == []
    assert either_store.last_event(sam, "nudge_firm_shown") is None
    assert either_store.purge(older_than=NOW - dt.timedelta(days=365)) == 0


def test_a_session_left_for_longer_than_retention_is_purged(db_path: Path, sam: Person) -> None:
    with SqliteStore.open(db_path, secret=SECRET, clock=lambda: YEAR_AGO) as store:
        store.save_session(sam, Session("hard-day", "weight", YEAR_AGO))
    with SqliteStore.open(db_path, secret=SECRET, clock=lambda: NOW) as store:
        store.purge(older_than=NOW - dt.timedelta(days=365))
        assert store.load_session(sam) is None


def test_people_purged_entirely_lose_their_key_and_so_their_old_backups(
    db_path: Path, sam: Person, alex: Person, tmp_path: Path
) -> None:
    with SqliteStore.open(db_path, secret=SECRET, clock=lambda: YEAR_AGO) as store:
        store.finish(sam, reflection(at=YEAR_AGO, summary="sam long ago"))
        store.finish(alex, reflection(at=YEAR_AGO, summary="alex long ago"))
        store.backup(tmp_path / "old.db")
    with SqliteStore.open(db_path, secret=SECRET, clock=lambda: NOW) as store:
        store.finish(alex, reflection(at=NOW, summary="alex now"))
        store.purge(older_than=NOW - dt.timedelta(days=365))
        keys = store.keys_path
    with sqlite3.connect(keys) as conn:
        (left,) = conn.execute("SELECT count(*) FROM data_keys").fetchone()
    assert left == 1  # Alex still has a reflection; Sam has nothing left, nor a key
    with SqliteStore.open(tmp_path / "old.db", secret=SECRET, keys_path=keys) as old:
        assert old.reflections(sam) == []
        assert [r.summary for r in old.reflections(alex)] == ["alex long ago"]


def test_a_slack_event_is_claimed_once_and_remembered_for_a_day(
    sqlite_store: SqliteStore, db_path: Path
) -> None:
    assert sqlite_store.claim_event("Ev01", at=NOW)
    assert not sqlite_store.claim_event("Ev01", at=NOW + dt.timedelta(minutes=5))
    assert sqlite_store.claim_event("Ev02", at=NOW + dt.timedelta(minutes=5))
    # A day later the old ids are pruned (Slack stopped retrying long ago).
    assert sqlite_store.claim_event("Ev03", at=NOW + dt.timedelta(days=1, minutes=10))
    with sqlite3.connect(db_path) as conn:
        (kept,) = conn.execute("SELECT count(*) FROM seen_events").fetchone()
    assert kept == 1


def test_who_reflected_is_given_as_pseudonyms(
    sqlite_store: SqliteStore, sam: Person, alex: Person
) -> None:
    sqlite_store.finish(sam, reflection(flow_id="weekly-check-in", at=NOW))
    sqlite_store.finish(alex, reflection(flow_id="hard-day", at=NOW))
    sqlite_store.finish(alex, reflection(flow_id="weekly-check-in", at=NOW - dt.timedelta(days=8)))
    week = {"since": NOW - dt.timedelta(days=7), "until": NOW + dt.timedelta(seconds=1)}
    assert sqlite_store.people_who_reflected(flow_id="weekly-check-in", **week) == {
        sqlite_store.pseudonym(sam)
    }
    assert sqlite_store.people_who_reflected(flow_id=None, **week) == {
        sqlite_store.pseudonym(sam),
        sqlite_store.pseudonym(alex),
    }


def test_a_restored_backup_is_cleared_of_people_erased_since(
    db_path: Path, sam: Person, alex: Person, tmp_path: Path
) -> None:
    with SqliteStore.open(db_path, secret=SECRET) as store:
        store.finish(sam, reflection(summary="sam's"))
        store.finish(alex, reflection(summary="alex's"))
        store.backup(tmp_path / "copy.db")
        store.forget(sam)
    # Restore: the copy replaces the database; the live keys file stays.
    (tmp_path / "copy.db").replace(db_path)
    for leftover in ("-wal", "-shm"):
        Path(f"{db_path}{leftover}").unlink(missing_ok=True)
    with SqliteStore.open(db_path, secret=SECRET) as store:
        assert store.purge(older_than=NOW - dt.timedelta(days=365)) == 1
        assert [r.summary for r in store.reflections(alex)] == ["alex's"]
    with sqlite3.connect(db_path) as conn:
        (left,) = conn.execute("SELECT count(*) FROM reflections").fetchone()
    assert left == 1
