"""The weekly reminders' tables: reached through the store's transactions, like every table.

`Ledger` and `Teams` take anything with the store's `reading()` and `writing()` (a
`SqliteStore`), so they share its connections, its BEGIN IMMEDIATE writers with the same busy
handling, `secure_delete`, and its numbered migrations (bot.store.schema, 004 onwards). Times
are stored as the store stores them: fixed-width ISO text in UTC (bot.store.times).

A team's Slack channel id is never kept in clear: `channel` holds its keyed digest (what
lookups go through) and `channel_sealed` the id sealed under the service key, for the moment
Slack must be called with it.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlite_utils

from bot.weekly.privacy import Keyring

Row = dict[str, Any]

#: The purpose a team's channel id is digested for.
CHANNEL_PURPOSE = "weekly/channel"


def channel_key(keyring: Keyring, channel: str) -> str:
    """What the weekly tables store for a team's channel: a keyed digest of its id."""
    return keyring.digest(channel, purpose=CHANNEL_PURPOSE)


def channel_aad(key: str) -> str:
    """Associated data for a sealed channel id: bound to its digest (the row's `channel`)."""
    return f"weekly/channel/{key}"


class Transactions(Protocol):
    """What the weekly tables need from the store: its read and write transactions."""

    def reading(self) -> AbstractContextManager[sqlite_utils.Database]: ...

    def writing(self) -> AbstractContextManager[sqlite_utils.Database]: ...

    @property
    def keyring(self) -> Keyring: ...


def rows(cursor: sqlite3.Cursor) -> list[Row]:
    """A cursor's rows as dicts keyed by column name."""
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Tables:
    """One statement at a time, each in the store's read or write transaction."""

    def __init__(self, db: Transactions) -> None:
        self._db = db
        self._keyring = db.keyring

    def _key(self, channel: str) -> str:
        """The digest a channel is stored and looked up by."""
        return channel_key(self._keyring, channel)

    def _sealed(self, channel: str) -> bytes:
        """A channel id sealed for its row."""
        return self._keyring.seal(channel, aad=channel_aad(self._key(channel)))

    def _channel(self, row: Row) -> str:
        """The channel id of a row (unsealed)."""
        return self._keyring.unseal(row["channel_sealed"], aad=channel_aad(row["channel"]))

    def _read(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[Row]:
        with self._db.reading() as db:
            return rows(db.execute(sql, params))

    def _write(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[Row]:
        with self._db.writing() as db:
            return rows(db.execute(sql, params))

    def _count(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> int:
        with self._db.writing() as db:
            return int(db.execute(sql, params).rowcount)


def erase(db: sqlite_utils.Database, person: str) -> None:
    """Erase a person from the weekly reminders (inside the store's `forget`): every ledger row
    (each holds their sealed user id) and the teams they switched on (which stops those teams'
    reminders: the lead's sealed id is what the consent message names). Their "Not for me"
    choices stay, as a list of pseudonyms not to contact, so erasing your reflections never
    restarts reminders you turned down."""
    db.execute("DELETE FROM reminder_ledger WHERE person = ?", [person])
    db.execute("DELETE FROM reminder_teams WHERE lead = ?", [person])
