"""The weekly reminders' tables: reached through the store's transactions, like every table.

`Ledger`, `Teams`, the profile cache and the shared pacing take anything with the store's
`reading()` and `writing()`: a `SqliteStore` (BEGIN IMMEDIATE writers with the store's busy
handling, `secure_delete`, its numbered migrations in bot.store.schema, 004 onwards) or a
`PostgresStore` (pooled connections, READ COMMITTED writers, bot.store.pg_schema's
`004_weekly_reminders`). The SQL is written once, in SQLite's parameter style (`?` and
`:name`); on PostgreSQL it is rewritten to psycopg's (`%s`, `%(name)s`) and the few functions
that differ are named through `Dialect`. Times are stored alike on both: fixed-width ISO text in
UTC (bot.store.times), so comparisons and ordering are the same.

A team's Slack channel id is never kept in clear: `channel` holds its keyed digest (what
lookups go through) and `channel_sealed` the id sealed under the service key, for the moment
Slack must be called with it.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.weekly.privacy import Keyring

Row = dict[str, Any]
Params = dict[str, Any] | tuple[Any, ...] | list[Any]

#: The purpose a team's channel id is digested for.
CHANNEL_PURPOSE = "weekly/channel"


def channel_key(keyring: Keyring, channel: str) -> str:
    """What the weekly tables store for a team's channel: a keyed digest of its id."""
    return keyring.digest(channel, purpose=CHANNEL_PURPOSE)


def channel_aad(key: str) -> str:
    """Associated data for a sealed channel id: bound to its digest (the row's `channel`)."""
    return f"weekly/channel/{key}"


class Cursor(Protocol):
    @property
    def description(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """An sqlite_utils.Database or a psycopg connection: both execute(sql, params)."""

    def execute(self, sql: Any, params: Any = ...) -> Any: ...


class Transactions(Protocol):
    """What the weekly tables need from the store: its read and write transactions."""

    def reading(self) -> AbstractContextManager[Any]: ...

    def writing(self) -> AbstractContextManager[Any]: ...

    @property
    def keyring(self) -> Keyring: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between the two databases in the weekly tables' SQL."""

    name: str
    #: The larger of two values (a scalar function, not the aggregate).
    greatest: str
    #: Appended to the SELECT that picks a row to claim.
    skip_locked: str

    def sql(self, text: str) -> str:
        if self.name == "sqlite":
            return text
        text = text.replace("%", "%%")
        text = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", text)
        return text.replace("?", "%s")


SQLITE = Dialect(name="sqlite", greatest="MAX", skip_locked="")
POSTGRESQL = Dialect(name="postgresql", greatest="GREATEST", skip_locked="FOR UPDATE SKIP LOCKED")


def dialect_of(db: object) -> Dialect:
    """The store's SQL dialect (`sql_dialect` on the store; SQLite when it does not say)."""
    return POSTGRESQL if getattr(db, "sql_dialect", "sqlite") == "postgresql" else SQLITE


def rows(cursor: Any) -> list[Row]:
    """A cursor's rows as dicts keyed by column name."""
    if cursor.description is None:
        return []
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, _plain(row), strict=True)) for row in cursor.fetchall()]


def _plain(row: Any) -> list[Any]:
    """Values as SQLite gives them (psycopg gives bytea as bytes already; memoryview in case)."""
    return [bytes(value) if isinstance(value, memoryview) else value for value in row]


class Tables:
    """One statement at a time, each in the store's read or write transaction."""

    def __init__(self, db: Transactions) -> None:
        self._db = db
        self._keyring = db.keyring
        self._dialect = dialect_of(db)

    def _key(self, channel: str) -> str:
        """The digest a channel is stored and looked up by."""
        return channel_key(self._keyring, channel)

    def _sealed(self, channel: str) -> bytes:
        """A channel id sealed for its row."""
        return self._keyring.seal(channel, aad=channel_aad(self._key(channel)))

    def _channel(self, row: Row) -> str:
        """The channel id of a row (unsealed)."""
        return self._keyring.unseal(bytes(row["channel_sealed"]), aad=channel_aad(row["channel"]))

    def _exec(self, db: Any, sql: str, params: Params = ()) -> Any:
        """Run one statement on a connection the caller holds (in the store's transaction)."""
        return db.execute(self._dialect.sql(sql), params)

    def _read(self, sql: str, params: Params = ()) -> list[Row]:
        with self._db.reading() as db:
            return rows(self._exec(db, sql, params))

    def _write(self, sql: str, params: Params = ()) -> list[Row]:
        with self._db.writing() as db:
            return rows(self._exec(db, sql, params))

    def _count(self, sql: str, params: Params = ()) -> int:
        with self._db.writing() as db:
            return int(self._exec(db, sql, params).rowcount)


def erase(db: Any, person: str, *, dialect: Dialect = SQLITE) -> None:
    """Erase a person from the weekly reminders (inside the store's `forget`): every ledger row
    (each holds their sealed user id), what Slack said of them (time zone, deactivated), and the
    teams they switched on (which stops those teams' reminders: the lead's sealed id is what the
    consent message names), and the cached member lists (read from Slack again when next
    needed). Their "Not for me" choices stay, as a list of pseudonyms not to
    contact, so erasing your reflections never restarts reminders you turned down."""
    for table, column in (
        ("reminder_ledger", "person"),
        ("reminder_profiles", "person"),
        ("reminder_teams", "lead"),
    ):
        db.execute(dialect.sql(f"DELETE FROM {table} WHERE {column} = ?"), [person])
    # The teams' cached member lists hold user ids, not pseudonyms: dropped, read again.
    db.execute("DELETE FROM reminder_members")


def erase_on_postgres(conn: Any, person: str) -> None:
    """`erase` for PostgresStore.forget (registered with bot.store.pg_schema)."""
    erase(conn, person, dialect=POSTGRESQL)
