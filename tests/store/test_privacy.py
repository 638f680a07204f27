"""The SQLite store's own privacy promises, checked on the bytes of real database files: the
WAL, file modes, the online backup. What both stores promise is in test_privacy_both.py."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store.errors import KeysMissingError, UnreadableError
from bot.store.privacy import Keyring
from bot.store.sqlite import SqliteStore
from tests.store.canaries import (
    CANARIES,
    CANARY_SUMMARY,
    CANARY_TEXT,
    CANARY_USER,
    assert_logs_hold_no_canaries,
    assert_no_canaries,
    assert_no_key_from_the_secret_opens,
    fill_with_canaries,
)
from tests.store.conftest import NOW, OTHER_SECRET, SECRET, reflection


def _files(db_path: Path) -> list[Path]:
    candidates = [db_path, db_path.with_name("reflect-keys.db")]
    candidates += [Path(f"{p}-wal") for p in candidates]
    return [p for p in candidates if p.exists()]


def _all_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in _files(db_path))


def test_no_identity_name_or_answer_text_in_the_files_or_their_wal(db_path: Path) -> None:
    store = SqliteStore.open(db_path, secret=SECRET)
    person = fill_with_canaries(store)
    assert any(p.name.endswith("-wal") and p.stat().st_size for p in _files(db_path))
    assert_no_canaries(_all_bytes(db_path))
    # ...and the store still reads it all back for the person themselves.
    (kept,) = store.reflections(person)
    assert CANARY_TEXT in kept.answers[0].value and CANARY_SUMMARY in kept.summary
    store.close()
    for canary in CANARIES:
        assert canary.encode() not in _all_bytes(db_path), canary


def test_safety_events_keep_their_moment_only_under_the_persons_key(
    sqlite_store: SqliteStore, sam: Person, db_path: Path
) -> None:
    """The conversation needs to know when the check-in question was asked and when the gentle
    card was shown; the file alone says neither what happened nor when in the day."""
    asked = NOW + dt.timedelta(minutes=7, seconds=3)
    sqlite_store.record(sam, "check_in_asked", at=asked)
    sqlite_store.record(sam, "check_in_answered", at=asked + dt.timedelta(seconds=40))
    sqlite_store.record(sam, "gentle_signpost_shown", at=NOW)
    sqlite_store.record(sam, "nudge_firm_shown", at=NOW)
    assert sqlite_store.last_event(sam, "check_in_asked") == asked
    assert sqlite_store.last_event(sam, "check_in_answered") == asked + dt.timedelta(seconds=40)
    assert sqlite_store.last_event(sam, "gentle_signpost_shown") == NOW
    assert sqlite_store.last_event(sam, "signpost_shown") is None
    midnight = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    assert sqlite_store.last_event(sam, "nudge_firm_shown") == midnight  # a day, no more
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT event, flow_id, at FROM events").fetchall()
    assert rows == [("sealed", None, "2026-11-20T00:00:00.000000+00:00")] * 4


def test_pseudonyms_are_stable_and_unlinkable_across_secrets(sam: Person) -> None:
    first, again, other = Keyring(SECRET), Keyring(SECRET), Keyring(OTHER_SECRET)
    assert first.pseudonym(sam.id) == again.pseudonym(sam.id)
    assert first.pseudonym(sam.id) != other.pseudonym(sam.id)
    assert first.pseudonym(sam.id) != first.pseudonym("T0SAMTEAM:U0SAMUSES")
    assert CANARY_USER not in first.pseudonym(sam.id) and len(first.pseudonym(sam.id)) == 64


def test_the_same_person_is_found_again_after_a_restart(db_path: Path, sam: Person) -> None:
    with SqliteStore.open(db_path, secret=SECRET) as store:
        store.finish(sam, reflection(summary="before the restart"))
    with SqliteStore.open(db_path, secret=SECRET) as store:
        assert [r.summary for r in store.reflections(sam)] == ["before the restart"]


def test_forget_makes_an_earlier_backup_unreadable_for_that_person_only(
    sqlite_store: SqliteStore, sam: Person, alex: Person, tmp_path: Path
) -> None:
    sqlite_store.finish(sam, reflection(summary="sam's reflection"))
    sqlite_store.finish(alex, reflection(summary="alex's reflection"))
    backup = tmp_path / "backups" / "before.db"
    sqlite_store.backup(backup)
    assert sqlite_store.forget(sam) == 1

    # The backup still holds Sam's rows, sealed, but the key to read them is gone for good.
    with SqliteStore.open(backup, secret=SECRET, keys_path=sqlite_store.keys_path) as restored:
        assert [r.summary for r in restored.reflections(alex)] == ["alex's reflection"]
        assert restored.reflections(sam) == []
    with sqlite3.connect(backup) as conn:
        who = Keyring(SECRET).pseudonym(sam.id)
        rid, sealed = conn.execute(
            "SELECT id, summary FROM reflections WHERE pseudonym = ?", (who,)
        ).fetchone()
    # No key derivable from the secret opens it either: the data key was random.
    assert_no_key_from_the_secret_opens(sealed, reflection_id=rid, who=who)


def test_forget_leaves_nothing_in_the_files_and_wal(
    sqlite_store: SqliteStore, sam: Person, db_path: Path
) -> None:
    who = Keyring(SECRET).pseudonym(sam.id)
    sqlite_store.finish(sam, reflection())
    sqlite_store.save_session(sam, Session("hard-day", "weight", NOW))
    assert who.encode() in _all_bytes(db_path)
    sqlite_store.forget(sam)
    assert who.encode() not in _all_bytes(db_path)
    for wal in (p for p in _files(db_path) if p.name.endswith("-wal")):
        assert wal.stat().st_size == 0


def test_a_missing_keys_file_is_one_clear_error(db_path: Path, sam: Person) -> None:
    with SqliteStore.open(db_path, secret=SECRET) as store:
        store.finish(sam, reflection())
    keys = db_path.with_name("reflect-keys.db")
    keys.rename(keys.with_suffix(".moved"))
    with pytest.raises(KeysMissingError, match=r"reflect-keys\.db"):
        SqliteStore.open(db_path, secret=SECRET)
    assert not keys.exists()  # nothing was created in its place


def test_keys_from_another_database_are_refused(tmp_path: Path, sam: Person) -> None:
    with SqliteStore.open(tmp_path / "a" / "reflect.db", secret=SECRET) as store:
        store.finish(sam, reflection())
    with SqliteStore.open(tmp_path / "b" / "reflect.db", secret=SECRET) as store:
        store.finish(sam, reflection())
    with pytest.raises(KeysMissingError, match="another database"):
        SqliteStore.open(
            tmp_path / "a" / "reflect.db",
            secret=SECRET,
            keys_path=tmp_path / "b" / "reflect-keys.db",
        )


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "reflect.db"
    path.write_bytes(b"this is not sqlite, " * 100)
    with pytest.raises(Exception, match="not a Reflect database") as caught:
        SqliteStore.open(path, secret=SECRET)
    assert type(caught.value).__module__ == "bot.store.errors"


def test_files_are_private_to_their_owner(sqlite_store: SqliteStore, sam: Person) -> None:
    sqlite_store.finish(sam, reflection())
    for path in (sqlite_store.path, sqlite_store.keys_path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(sqlite_store.path.parent).st_mode) == 0o700


def test_service_sealing_is_bound_to_its_associated_data() -> None:
    keyring = Keyring(SECRET)
    blob = keyring.seal("U0CANARY42", aad="weekly_nudges:7:slack_user")
    assert b"U0CANARY42" not in blob
    assert keyring.unseal(blob, aad="weekly_nudges:7:slack_user") == "U0CANARY42"
    with pytest.raises(UnreadableError):
        keyring.unseal(blob, aad="weekly_nudges:8:slack_user")
    with pytest.raises(UnreadableError):
        Keyring(OTHER_SECRET).unseal(blob, aad="weekly_nudges:7:slack_user")
    assert "test-secret" not in repr(keyring)


def test_logs_never_carry_identities_text_or_secrets(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = SqliteStore.open(db_path, secret=SECRET)
    person = fill_with_canaries(store)
    store.reflections(person)
    store.backup(db_path.with_name("copy.db"))
    store.purge(older_than=NOW - dt.timedelta(days=365))
    store.forget(person)
    store.close()
    assert_logs_hold_no_canaries(caplog, person)
