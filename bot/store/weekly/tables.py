"""The weekly nudges' tables, in the bot's SQLite database.

Each sender and planner opens its own connection (SQLite connections are not shared between
threads). Writes are single statements or short BEGIN IMMEDIATE transactions, so two bot
processes on one database file serialise cleanly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.store.schema import register, register_eraser

#: Version 1 of the weekly nudge tables. Only pseudonyms and sealed (encrypted) ids identify
#: people and workspaces here; channel ids (the team's own name for itself) are kept in clear.
SCHEMA = """
CREATE TABLE IF NOT EXISTS weekly_teams (
    channel TEXT PRIMARY KEY,
    workspace_sealed BLOB NOT NULL,
    day INTEGER NOT NULL,
    at TEXT NOT NULL,
    active INTEGER NOT NULL,
    lead TEXT NOT NULL,
    lead_sealed BLOB NOT NULL,
    switched_on_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    problem TEXT
);
CREATE TABLE IF NOT EXISTS weekly_opt_outs (
    channel TEXT NOT NULL,
    person TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (channel, person)
);
CREATE TABLE IF NOT EXISTS weekly_people (
    person TEXT PRIMARY KEY,
    tz TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    is_bot INTEGER NOT NULL DEFAULT 0,
    checked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS weekly_deliveries (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    week TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient_sealed BLOB NOT NULL,
    consent INTEGER NOT NULL,
    due_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('due', 'claimed', 'sent', 'skipped')),
    claim_token TEXT,
    lease_until REAL,
    retry_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_ts TEXT,
    reason TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (person, week, kind)
);
CREATE INDEX IF NOT EXISTS weekly_deliveries_waiting
    ON weekly_deliveries (state, due_at);
CREATE INDEX IF NOT EXISTS weekly_deliveries_by_channel
    ON weekly_deliveries (channel, week, state);
CREATE INDEX IF NOT EXISTS weekly_deliveries_by_person
    ON weekly_deliveries (person, channel, state);
"""


def connect(path: Path | str, *, durable: bool = True) -> sqlite3.Connection:
    """A connection for one thread: WAL, full sync (we promise to lose nothing), a busy timeout,
    autocommit (transactions are explicit), and the weekly tables in place. `durable=False`
    (synchronous=NORMAL: safe against a crash of the process, not of the machine) is for load
    tests, where fsync time would only hide what is measured."""
    connection = sqlite3.connect(str(path), timeout=5.0, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    ensure_schema(connection)
    return connection


def ensure_schema(connection: sqlite3.Connection) -> None:
    for statement in _statements():
        connection.execute(statement)


def _statements() -> list[str]:
    return [part.strip() for part in SCHEMA.split(";") if part.strip()]


#: The same tables, applied by the store whenever it opens the database (bot.store.schema).
MIGRATIONS = register(Migrations("reflect-weekly"))


@register_eraser
def forget_person(db: sqlite_utils.Database, person: str) -> None:
    """Erase a person from the weekly nudges (run inside the store's `forget`): their cached
    time zone, every delivery row (each holds their sealed user id), and the teams they switched
    on (which stops those teams' nudges: the lead's sealed id is what the consent message names).
    Their "Not for me" choices stay, as a list of pseudonyms not to contact, so erasing your
    reflections never restarts nudges you turned down."""
    db.execute("DELETE FROM weekly_people WHERE person = ?", [person])
    db.execute("DELETE FROM weekly_deliveries WHERE person = ?", [person])
    db.execute("DELETE FROM weekly_teams WHERE lead = ?", [person])


@MIGRATIONS(name="001_weekly_nudges")
def _weekly_nudges(db: sqlite_utils.Database) -> None:
    for statement in _statements():
        db.execute(statement)
