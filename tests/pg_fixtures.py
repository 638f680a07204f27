"""PostgreSQL fixtures for every test folder: one throwaway server per test session
(tests/pg_server.py), and for each test its own schema in a data database and in a keys
database, so tests stay fast and never see each other's rows.

With no PostgreSQL to run (neither the pgserver package nor pg_ctl), the PostgreSQL tests fail
when CI is set, and are skipped, saying why, on a developer's machine.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
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


@pytest.fixture(scope="session")
def pg_server_session() -> Iterator[pg_server.PgServer]:
    try:
        server = pg_server.start()
    except pg_server.NoPostgres as error:
        if os.environ.get("CI"):
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))
    try:
        with server.admin() as conn:
            for name in (DATA_DATABASE, KEYS_DATABASE):
                conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        yield server
    finally:
        server.stop()


def _with_schema(url: str, schema: str) -> str:
    return f"{url}&options={quote(f'-c search_path={schema}')}"


@pytest.fixture
def pg_urls(pg_server_session: pg_server.PgServer) -> Iterator[PgUrls]:
    server = pg_server_session
    schema = f"t{os.getpid()}_{next(_schemas)}"
    for database in (DATA_DATABASE, KEYS_DATABASE):
        with psycopg.connect(server.url(database), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    yield PgUrls(
        url=_with_schema(server.url(DATA_DATABASE), schema),
        keys_url=_with_schema(server.url(KEYS_DATABASE), schema),
        schema=schema,
        server=server,
    )
    for database in (DATA_DATABASE, KEYS_DATABASE):
        with psycopg.connect(server.url(database), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
