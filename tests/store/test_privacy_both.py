"""The privacy promises, checked on what each store really keeps: SQLite's files (with their
WAL) byte for byte, and PostgreSQL's tables read raw, every column of every row of both
databases, without the secret (plus, once, the server's own files, WAL included).

tests/store/test_privacy.py holds the SQLite-only checks (file modes, the WAL after erasure,
the online backup).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.engine.people import Person
from bot.store import Store
from bot.store.errors import KeysMissingError, UnreadableError, WrongSecretError
from bot.store.postgres import PostgresStore
from bot.store.privacy import Keyring, row_aad, unseal
from bot.store.sqlite import SqliteStore
from tests.pg_fixtures import DATA_DATABASE, KEYS_DATABASE, PgUrls
from tests.store.canaries import (
    CANARIES,
    CANARY_SUMMARY,
    CANARY_TEXT,
    assert_logs_hold_no_canaries,
    assert_no_canaries,
    assert_no_key_from_the_secret_opens,
    fill_with_canaries,
)
from tests.store.conftest import NOW, OTHER_SECRET, SECRET, open_pg, reflection


@dataclass
class Backend:
    """One store's way of being opened and read raw, as someone with the files but no secret."""

    name: str
    open: Callable[..., Store]
    #: Every byte the store keeps: both files and their WAL, or every value of both databases.
    contents: Callable[[], bytes]
    #: Raw SQL on the data (or keys) database, `%s` placeholders; returns the rows.
    sql: Callable[..., list[tuple[Any, ...]]]
    #: Open the same data with the keys of an empty (or another) keys location.
    open_with_other_keys: Callable[[Store | None], Store]


def _sqlite_backend(tmp_path: Path) -> Backend:
    path = tmp_path / "data" / "reflect.db"
    keys = path.with_name("reflect-keys.db")

    def contents() -> bytes:
        files = [path, keys, Path(f"{path}-wal"), Path(f"{keys}-wal")]
        return b"".join(p.read_bytes() for p in files if p.exists())

    def sql(statement: str, params: Sequence[Any] = (), *, keys_db: bool = False) -> list[Any]:
        with sqlite3.connect(keys if keys_db else path) as conn:
            return conn.execute(statement.replace("%s", "?"), params).fetchall()

    def other_keys(other: Store | None) -> Store:
        other_keys_path = (
            other.keys_path if isinstance(other, SqliteStore) else tmp_path / "empty-keys.db"
        )
        return SqliteStore.open(path, secret=SECRET, keys_path=other_keys_path)

    def opener(*, secret: bytes = SECRET, elsewhere: bool = False) -> Store:
        where = tmp_path / "elsewhere" / "reflect.db" if elsewhere else path
        return SqliteStore.open(where, secret=secret)

    return Backend("sqlite", opener, contents, sql, other_keys)


def _raw_values(urls: PgUrls, *, keys: bool) -> bytes:
    """Every value of every table in the test's schema, as the driver returns it: bytea as its
    raw bytes, text as UTF-8, anything else as its text form."""
    parts: list[bytes] = []
    with urls.connect(keys=keys) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [urls.schema],
        ).fetchall()
        for (table,) in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value)
                    else:
                        parts.append(str(value).encode("utf-8"))
    return b"\x00".join(parts)


def _postgres_backend(request: pytest.FixtureRequest) -> Backend:
    urls: PgUrls = request.getfixturevalue("pg_urls")

    def contents() -> bytes:
        return _raw_values(urls, keys=False) + _raw_values(urls, keys=True)

    def sql(statement: str, params: Sequence[Any] = (), *, keys_db: bool = False) -> list[Any]:
        with urls.connect(keys=keys_db) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def other_keys(other: Store | None) -> Store:
        empty: PgUrls = request.getfixturevalue("pg_empty_urls")
        keys_url = empty.keys_url
        if isinstance(other, PostgresStore):
            keys_url = other_urls[0].keys_url
        return PostgresStore.open(urls.url, keys_url=keys_url, secret=SECRET, pool_size=2)

    other_urls: list[PgUrls] = []

    def opener(*, secret: bytes = SECRET, elsewhere: bool = False) -> Store:
        if elsewhere:
            other_urls.append(request.getfixturevalue("pg_empty_urls"))
            return open_pg(other_urls[0], secret=secret)
        return open_pg(urls, secret=secret)

    return Backend("postgres", opener, contents, sql, other_keys)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return _sqlite_backend(tmp_path)
    return _postgres_backend(request)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = backend.open()
    yield opened
    opened.close()


def test_no_identity_name_or_answer_text_is_kept(backend: Backend, store: Store) -> None:
    person = fill_with_canaries(store)
    content = backend.contents()
    assert len(content) > 1000  # the scan reads real rows
    assert Keyring(SECRET).pseudonym(person.id).encode() in content
    assert_no_canaries(content)
    # ...and the store still reads it all back for the person themselves.
    (kept,) = store.reflections(person)
    assert CANARY_TEXT in kept.answers[0].value and CANARY_SUMMARY in kept.summary
    loaded = store.load_session(person)
    assert loaded is not None and CANARY_TEXT in loaded.answers["what_happened"]


def test_no_canary_reaches_the_postgres_servers_files(pg_urls: PgUrls) -> None:
    """The server's own files (the two databases' tables and indexes, and the WAL) hold no
    identity or text in clear; the pseudonym, which is kept in clear, is found there."""
    with open_pg(pg_urls) as store:
        person = fill_with_canaries(store)
    with pg_urls.server.admin() as conn:
        conn.execute("CHECKPOINT")
        oids = [
            str(row[0])
            for row in conn.execute(
                "SELECT oid FROM pg_database WHERE datname IN (%s, %s)",
                [DATA_DATABASE, KEYS_DATABASE],
            ).fetchall()
        ]
    data_dir = pg_urls.server.data_dir
    folders = [data_dir / "base" / oid for oid in oids] + [data_dir / "pg_wal"]
    files = [path for folder in folders for path in folder.rglob("*") if path.is_file()]
    content = b"".join(path.read_bytes() for path in files)
    assert Keyring(SECRET).pseudonym(person.id).encode() in content
    for canary in CANARIES:
        assert canary.encode() not in content, canary


def test_every_answer_is_sealed_and_only_flow_ids_and_dates_stay_in_clear(
    backend: Backend, store: Store, sam: Person
) -> None:
    store.finish(sam, reflection(scale=4))
    rows = backend.sql(
        "SELECT r.flow_id, r.finished_at, a.kind, a.value, a.sealed FROM answers a"
        " JOIN reflections r ON r.id = a.reflection_id ORDER BY a.position"
    )
    assert [(r[2], r[3]) for r in rows] == [("text", None), ("scale", None), ("choice", None)]
    assert all(r[4] is not None for r in rows)
    (kept,) = store.reflections(sam)
    assert [a.value for a in kept.answers][1:] == [4, "rest"]
    assert {r[0] for r in rows} == {"hard-day"}
    assert str(rows[0][1]).replace(" ", "T").startswith("2026-11-20T18:30")


def test_every_event_is_sealed_and_keeps_only_its_day_in_clear(
    backend: Backend, store: Store, sam: Person
) -> None:
    """The file says that something happened to a pseudonym on a day, never what or when in
    the day; a safety event's moment (the conversation needs it) is inside the seal."""
    store.record(sam, "signpost_shown", at=NOW)
    store.record(sam, "nudge_shown", at=NOW, flow_id="hard-day")
    rows = backend.sql("SELECT event, flow_id, at, sealed FROM events ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [("sealed", None), ("sealed", None)]
    for row in rows:
        assert b"signpost" not in bytes(row[3]) and b"nudge" not in bytes(row[3])
    assert {str(r[2]).replace(" ", "T")[:19] for r in rows} == {"2026-11-20T00:00:00"}
    assert store.last_event(sam, "signpost_shown") == NOW
    assert store.last_event(sam, "nudge_shown") == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def test_ciphertexts_swapped_between_rows_fail_to_decrypt(
    backend: Backend, store: Store, sam: Person
) -> None:
    store.finish(sam, reflection(summary="first summary", at=NOW))
    store.finish(sam, reflection(summary="second summary", at=NOW + dt.timedelta(hours=1)))
    (a, sa), (b, sb) = backend.sql("SELECT id, summary FROM reflections ORDER BY finished_at")
    backend.sql("UPDATE reflections SET summary = %s WHERE id = %s", [sb, a])
    backend.sql("UPDATE reflections SET summary = %s WHERE id = %s", [sa, b])
    # The store refuses both (leaves them out) rather than showing one as the other.
    assert store.reflections(sam) == []
    # And directly: the right key with the wrong row's associated data fails.
    ((wrapped,),) = backend.sql("SELECT wrapped FROM data_keys", keys_db=True)
    who = Keyring(SECRET).pseudonym(sam.id)
    key = Keyring(SECRET).unwrap(bytes(wrapped), pseudonym=who)
    assert unseal(key, bytes(sa), aad=row_aad("reflections", a, who, "summary")) == (
        b"first summary"
    )
    with pytest.raises(UnreadableError):
        unseal(key, bytes(sa), aad=row_aad("reflections", b, who, "summary"))


def test_answers_swapped_between_people_fail_too(
    backend: Backend, store: Store, sam: Person, alex: Person
) -> None:
    store.finish(sam, reflection(text="sam's own words"))
    store.finish(alex, reflection(text="alex's own words"))
    (ra, sa), (rb, sb) = backend.sql(
        "SELECT reflection_id, sealed FROM answers WHERE kind = 'text' ORDER BY reflection_id"
    )
    swap = "UPDATE answers SET sealed = %s WHERE reflection_id = %s AND kind = 'text'"
    backend.sql(swap, [sb, ra])
    backend.sql(swap, [sa, rb])
    assert store.reflections(sam) == []
    assert store.reflections(alex) == []


def test_forget_makes_an_earlier_copy_unreadable_for_that_person_only(
    backend: Backend, store: Store, sam: Person, alex: Person
) -> None:
    store.finish(sam, reflection(summary="sam's reflection"))
    store.finish(alex, reflection(summary="alex's reflection"))
    # An earlier copy of the data (what a backup or dump holds), taken before the erasure.
    copied = backend.sql(
        "SELECT id, pseudonym, flow_id, started_at, finished_at, summary FROM reflections"
    )
    assert store.forget(sam) == 1
    assert store.reflections(sam) == []
    who = Keyring(SECRET).pseudonym(sam.id)
    assert who.encode() not in backend.contents()
    # Restore Sam's rows from the copy: they are back, but the key to read them is gone.
    for row in copied:
        if row[1] == who:
            backend.sql(
                "INSERT INTO reflections (id, pseudonym, flow_id, started_at, finished_at,"
                " summary) VALUES (%s, %s, %s, %s, %s, %s)",
                list(row),
            )
    assert store.reflections(sam) == []
    assert [r.summary for r in store.reflections(alex)] == ["alex's reflection"]
    # No key derivable from the secret opens it either: the data key was random.
    rid, sealed = next((row[0], bytes(row[5])) for row in copied if row[1] == who)
    assert_no_key_from_the_secret_opens(sealed, reflection_id=rid, who=who)
    # Retention clears the unreadable rows for good.
    assert store.purge(older_than=NOW - dt.timedelta(days=365)) == 1
    assert backend.sql("SELECT count(*) FROM reflections")[0][0] == 1


def test_the_wrong_secret_is_one_clear_error(backend: Backend, sam: Person) -> None:
    with backend.open() as store:
        store.finish(sam, reflection())
    with pytest.raises(WrongSecretError, match="REFLECT_SECRET_KEY"):
        backend.open(secret=OTHER_SECRET)


def test_missing_keys_are_one_clear_error(backend: Backend, sam: Person) -> None:
    with backend.open() as store:
        store.finish(sam, reflection())
    with pytest.raises(KeysMissingError, match="cannot be read"):
        backend.open_with_other_keys(None)


def test_keys_of_another_database_are_refused(backend: Backend, sam: Person) -> None:
    with backend.open() as store:
        store.finish(sam, reflection())
    with backend.open(elsewhere=True) as other:
        other.finish(sam, reflection())
        other_store = other
    with pytest.raises(KeysMissingError, match="another"):
        backend.open_with_other_keys(other_store)


def test_logs_never_carry_identities_text_or_secrets(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = backend.open()
    person = fill_with_canaries(store)
    store.reflections(person)
    store.purge(older_than=NOW - dt.timedelta(days=365))
    store.forget(person)
    store.close()
    assert_logs_hold_no_canaries(caplog, person)
