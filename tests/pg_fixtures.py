"""PostgreSQL fixtures for every test folder: one throwaway server per test session
(tests/pg_server.py), with a data database and a keys database.

- `pg_urls`: a schema in each database, migrated once per session and emptied before each test
  (every table but the migrations record): a test sees no other test's rows, and pays a few
  milliseconds rather than a migration (DDL is the slow part).
- `pg_empty_urls`: brand-new empty schemas, for tests of migrations and first opening.

With no PostgreSQL to run (neither the pgserver package nor pg_ctl), the PostgreSQL tests fail
when CI is set, and are skipped, saying why, on a developer's machine.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import quote

import psycopg
import pytest

from tests import pg_server

DATA_DATABASE = "reflect_data"
KEYS_DATABASE = "reflect_keys"
_schemas = itertools.count(1)


@dataclass(frozen=True)
class PgUrls:
    """A test's own pair of databases (as schemas), and the server behind them."""

    url: str
    keys_url: str
    schema: str
    server: pg_server.PgServer

    def connect(self, *, keys: bool = False) -> psycopg.Connection[tuple[object, ...]]:
        """A raw connection to the test's data (or keys) schema, autocommit."""
        return psycopg.connect(self.keys_url if keys else self.url, autocommit=True)


def without_postgres(error: pg_server.NoPostgres, *, ci: bool) -> NoReturn:
    """In CI a missing PostgreSQL fails the run; on a developer's machine its tests are
    skipped, saying what to install."""
    if ci:
        pytest.fail(f"PostgreSQL tests cannot run: {error}", pytrace=False)
    pytest.skip(str(error))


@pytest.fixture(scope="session")
def pg_server_session() -> Iterator[pg_server.PgServer]:
    try:
        server = pg_server.start(databases=(DATA_DATABASE, KEYS_DATABASE))
    except pg_server.NoPostgres as error:
        without_postgres(error, ci=bool(os.environ.get("CI")))
    try:
        yield server
    finally:
        server.stop()


def _with_schema(url: str, schema: str) -> str:
    return f"{url}&options={quote(f'-c search_path={schema}')}"


def _new_schemas(server: pg_server.PgServer) -> PgUrls:
    schema = f"t{os.getpid()}_{next(_schemas)}"
    for database in (DATA_DATABASE, KEYS_DATABASE):
        with psycopg.connect(server.url(database), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    return PgUrls(
        url=_with_schema(server.url(DATA_DATABASE), schema),
        keys_url=_with_schema(server.url(KEYS_DATABASE), schema),
        schema=schema,
        server=server,
    )


def _drop_schemas(urls: PgUrls) -> None:
    for database in (DATA_DATABASE, KEYS_DATABASE):
        with psycopg.connect(urls.server.url(database), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {urls.schema} CASCADE")


@pytest.fixture
def pg_empty_urls(pg_server_session: pg_server.PgServer) -> Iterator[PgUrls]:
    urls = _new_schemas(pg_server_session)
    yield urls
    _drop_schemas(urls)


@pytest.fixture(scope="session")
def _pg_migrated(pg_server_session: pg_server.PgServer) -> PgUrls:
    from bot.store.pg_database import PgDatabases
    from bot.store.pg_opening import apply_migrations

    urls = _new_schemas(pg_server_session)
    databases = PgDatabases(urls.url, keys_url=urls.keys_url, pool_size=1)
    databases.open()
    try:
        apply_migrations(databases)
    finally:
        databases.close()
    return urls


@pytest.fixture
def pg_urls(_pg_migrated: PgUrls) -> PgUrls:
    for keys in (False, True):
        with _pg_migrated.connect(keys=keys) as conn, conn.transaction():
            # Past the append-only access log's trigger: each test starts from empty tables.
            conn.execute("SET LOCAL session_replication_role = replica")
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " AND table_type = 'BASE TABLE' AND table_name <> 'reflect_migrations'",
                [_pg_migrated.schema],
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'DELETE FROM "{table}"')
    return _pg_migrated
