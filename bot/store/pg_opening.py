"""Opening the PostgreSQL store: migrations, and the checks that the two databases are
separate, belong together and were made with this secret (bot.store.postgres calls these).

The same promises as the SQLite store's opening: the wrong secret, a missing or foreign keys
database, are each one clear error, raised before anything is changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import psycopg

from bot.store import pg_schema
from bot.store.errors import KeysMissingError, StoreError, WrongSecretError
from bot.store.pg_database import Connection, PgDatabases, describe
from bot.store.privacy import Keyring


def apply_migrations(
    databases: PgDatabases, sets: Iterable[pg_schema.PgMigrations] | None = None
) -> list[str]:
    """Apply pending migrations to both databases; returns `set/name` of those applied."""
    with databases.keys() as keys:
        done = pg_schema.migrate(keys, [pg_schema.KEYS_MIGRATIONS])
    with databases.pool.connection() as conn:
        done += pg_schema.migrate(conn, pg_schema.data_sets() if sets is None else sets)
    return done


def pending_at(url: str, *, keys_url: str) -> list[str]:
    """`set/name` of the migrations not yet applied to the databases at these URLs."""
    databases = PgDatabases(url, keys_url=keys_url, pool_size=1)
    databases.open()
    try:
        return pending_migrations(databases, pg_schema.data_sets())
    except psycopg.Error as error:
        raise StoreError(f"PostgreSQL refused to answer ({describe(url)}): {error}") from error
    finally:
        databases.close()


def pending_migrations(databases: PgDatabases, sets: Iterable[pg_schema.PgMigrations]) -> list[str]:
    """`set/name` of the migrations not yet applied to either database."""
    with databases.keys() as keys:
        behind = pg_schema.pending(keys, [pg_schema.KEYS_MIGRATIONS])
    with databases.pool.connection() as conn:
        behind += pg_schema.pending(conn, sets)
    return behind


def _server_identity(conn: Connection) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT current_database(), pg_postmaster_start_time(), current_setting('port')"
    ).fetchone()
    return tuple(row or ())


def check_separate(databases: PgDatabases) -> None:
    """The keys must not live in the data database: a dump of it would then carry both."""
    with databases.pool.connection() as conn:
        data = _server_identity(conn)
    with databases.keys() as keys:
        held = _server_identity(keys)
    if data == held:
        raise StoreError(
            f"REFLECT_KEYS_DATABASE_URL names the same database as REFLECT_DATABASE_URL "
            f"({describe(databases.url)}). The data keys need a database of their own (e.g. "
            "CREATE DATABASE reflect_keys), so that a dump of one is useless without the other."
        )


def _meta(conn: Connection) -> dict[str, str]:
    row = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
    if not (row and row[0]):
        return {}
    return {key: value for key, value in conn.execute("SELECT key, value FROM meta").fetchall()}


def check_before_migrating(databases: PgDatabases, keyring: Keyring) -> None:
    """Catch the wrong secret, or an empty or foreign keys database, before changing anything."""
    with databases.pool.connection() as conn:
        main = _meta(conn)
    with databases.keys() as keys:
        held = _meta(keys)
    check = keyring.check_value()
    for found, url in ((main, databases.url), (held, databases.keys_url)):
        if found.get("secret_check", check) != check:
            raise _wrong_secret(url)
    if "store_id" in main and "store_id" not in held:
        raise KeysMissingError(
            f"The keys database ({describe(databases.keys_url)}) holds no data keys for "
            f"{describe(databases.url)}, so its reflections cannot be read. Point "
            "REFLECT_KEYS_DATABASE_URL at the keys database made with it (restore it from its "
            "own backup), or start afresh with an empty data database."
        )
    if "store_id" in held and main.get("store_id", held["store_id"]) != held["store_id"]:
        raise _foreign_keys(databases)


def claim_or_check(databases: PgDatabases, keyring: Keyring) -> None:
    """Mark new databases as ours and as a pair, or check that they already are."""
    with (
        databases.pool.connection() as conn,
        conn.transaction(),
        databases.keys() as keys,
        keys.transaction(),
    ):
        claim_pair(databases, conn, keys, keyring)


def claim_pair(
    databases: PgDatabases, conn: Connection, keys: Connection, keyring: Keyring
) -> None:
    """`claim_or_check` inside transactions the caller holds on the data (`conn`) and keys
    (`keys`) databases, which commit (or roll back) with the caller's work."""
    check = keyring.check_value()
    conn.execute("LOCK TABLE meta IN SHARE ROW EXCLUSIVE MODE")
    main = _meta(conn)
    keys.execute("LOCK TABLE meta IN SHARE ROW EXCLUSIVE MODE")
    held = _meta(keys)
    store_id = main.get("store_id") or held.get("store_id") or secrets.token_hex(16)
    if held.get("store_id", store_id) != store_id:
        raise _foreign_keys(databases)
    for target in (conn, keys):
        target.execute(
            "INSERT INTO meta (key, value) VALUES ('store_id', %s), ('secret_check', %s)"
            " ON CONFLICT (key) DO NOTHING",
            [store_id, check],
        )


def _foreign_keys(databases: PgDatabases) -> KeysMissingError:
    return KeysMissingError(
        f"The keys database ({describe(databases.keys_url)}) belongs to another data database "
        f"than {describe(databases.url)}. Use the keys database that was made with it."
    )


def _wrong_secret(url: str) -> WrongSecretError:
    return WrongSecretError(
        f"The secret key does not match the one {describe(url)} was made with. Set "
        "REFLECT_SECRET_KEY to the original secret; with another secret the reflections "
        "cannot be read."
    )
