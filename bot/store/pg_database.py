"""The PostgreSQL databases behind the store, and how to read and write them safely.

Two databases, each with a connection pool (psycopg 3, psycopg_pool): the data database and
the keys database (each person's data key, wrapped under the secret). They are separate
databases, not schemas of one, so that a dump of one is useless without the other, and erasing a
person's key also defeats every earlier dump of the data database.

- A writing transaction (`writing()`) holds one pooled connection for the thread; store calls
  made inside it join it, so a whole request commits together or not at all.
- Every change about a person first takes a transaction-level advisory lock keyed by their
  pseudonym (`lock_person`), held to commit: two processes handling one person's messages take
  turns, in order, and see each other's committed writes (READ COMMITTED: each statement reads
  what was committed before it started, so after the lock, everything before it).
- A lock or statement that waits longer than WRITE_PATIENCE_SECONDS fails with a StoreError.

Connections are in autocommit mode; transactions are explicit (`conn.transaction()`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.store.errors import StoreError

log = logging.getLogger(__name__)

Connection = psycopg.Connection[Any]

#: How long a writer waits for a person's lock (or any row lock) before giving up.
WRITE_PATIENCE_SECONDS = 10
#: How long opening waits for the first connection.
CONNECT_TIMEOUT_SECONDS = 10.0
#: How long a health check waits for a connection before calling the database unavailable.
HEALTH_TIMEOUT_SECONDS = 2.0


def describe(url: str) -> str:
    """`database on host` for messages: never the password or the rest of the URL."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the configured database (its URL could not be read)"
    host = str(parts.get("host") or "localhost")
    return f"database {parts.get('dbname') or '(default)'} on {host}"


def person_lock_key(pseudonym: str) -> int:
    """The advisory lock key of a person: the first 64 bits of their pseudonym (a hex HMAC),
    as a signed bigint."""
    return int.from_bytes(bytes.fromhex(pseudonym[:16]), "big", signed=True)


class _Held(threading.local):
    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.locked: set[str] = set()


class PgDatabases:
    """Pools for the data and keys databases, and the thread's writing transaction."""

    def __init__(self, url: str, *, keys_url: str, pool_size: int = 10) -> None:
        self.url = url
        self.keys_url = keys_url
        self._held = _Held()
        self.pool = self._pool(url, pool_size, name="reflect-data")
        self.keys_pool = self._pool(keys_url, max(2, pool_size // 2), name="reflect-keys")

    @staticmethod
    def _pool(url: str, size: int, *, name: str) -> ConnectionPool[Connection]:
        def configure(conn: Connection) -> None:
            conn.execute(f"SET lock_timeout = '{WRITE_PATIENCE_SECONDS}s'")
            conn.execute("SET TIME ZONE 'UTC'")

        return ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, size),
            kwargs={"autocommit": True},
            configure=configure,
            # A connection the server dropped (a restart, a failover) is replaced on checkout.
            check=ConnectionPool.check_connection,
            open=False,
            name=name,
            timeout=30.0,
        )

    def open(self) -> None:
        """Connect once to each database (so that a wrong URL fails at once, with the server's
        reason), then fill the pools."""
        for pool, url in ((self.pool, self.url), (self.keys_pool, self.keys_url)):
            try:
                psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT_SECONDS)).close()
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            except (PoolTimeout, psycopg.Error) as error:
                self.close()
                reason = str(error).strip().splitlines()[0] if str(error).strip() else "timeout"
                raise StoreError(
                    f"Cannot connect to PostgreSQL ({describe(url)}): {reason}. Check "
                    "REFLECT_DATABASE_URL and REFLECT_KEYS_DATABASE_URL, and that the server "
                    "is running."
                ) from error

    def close(self) -> None:
        self.pool.close()
        self.keys_pool.close()

    # ------------------------------------------------------------------ transactions

    @property
    def in_writing(self) -> bool:
        return self._held.conn is not None

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A writing transaction, committed at the end or rolled back. Inside another writing
        transaction of this thread it is simply part of it."""
        held = self._held
        if held.conn is not None:
            yield held.conn
            return
        with _busy_as_store_error(), self.pool.connection() as conn, conn.transaction():
            held.conn, held.locked = conn, set()
            try:
                yield conn
            finally:
                held.conn, held.locked = None, set()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only transaction with one snapshot for all its statements (or the thread's
        writing transaction, when inside one)."""
        if self._held.conn is not None:
            yield self._held.conn
            return
        with _busy_as_store_error(), self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    @contextlib.contextmanager
    def keys(self) -> Iterator[Connection]:
        """A connection to the keys database; each statement commits on its own."""
        with _busy_as_store_error(), self.keys_pool.connection() as conn:
            yield conn

    def ping(self, *, timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
        """Ask each database a trivial question (health checks); StoreError if either does not
        answer within `timeout` seconds."""
        for pool, url in ((self.pool, self.url), (self.keys_pool, self.keys_url)):
            try:
                with pool.connection(timeout=timeout) as conn:
                    conn.execute("SELECT 1").fetchone()
            except (PoolTimeout, psycopg.Error) as error:
                raise StoreError(f"PostgreSQL does not answer ({describe(url)}).") from error

    def lock_person(self, conn: Connection, pseudonym: str) -> None:
        """Take the person's advisory lock for the rest of this transaction (once)."""
        if conn is self._held.conn and pseudonym in self._held.locked:
            return
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [person_lock_key(pseudonym)])
        if conn is self._held.conn:
            self._held.locked.add(pseudonym)


@contextlib.contextmanager
def _busy_as_store_error() -> Iterator[None]:
    try:
        yield
    except (pg_errors.LockNotAvailable, pg_errors.QueryCanceled) as error:
        raise StoreError(
            "The database stayed busy for too long; another Reflect process may be stuck "
            "holding a lock. Try again."
        ) from error
    except PoolTimeout as error:
        raise StoreError(
            "No database connection came free in time: raise REFLECT_DATABASE_POOL_SIZE, or "
            "check the PostgreSQL server."
        ) from error
