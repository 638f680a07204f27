"""The database schema, as sqlite-utils migrations that upgrade an older file in place.

Migrations are named and applied in order, each in its own savepoint inside one BEGIN IMMEDIATE
transaction (so two processes opening a new database at once cannot both apply them). Applied
names are recorded in `_sqlite_migrations`; a migration, once released, is never edited: add a
new one.

Other modules keep their own tables in the same database with their own migration set::

    from sqlite_utils.migrations import Migrations
    from bot.store.schema import register

    NUDGE_MIGRATIONS = register(Migrations("reflect-nudges"))

    @NUDGE_MIGRATIONS(name="001_weekly_nudges")
    def _weekly(db): db.execute("CREATE TABLE weekly_nudges (...)")

Registered sets are applied after the store's own on every `SqliteStore.open`; a set can also be
applied to an open store with `SqliteStore.migrate(migrations)`. Keep Slack ids out of them:
store `Keyring.pseudonym(...)` or values sealed with `Keyring.seal(...)`.

The data keys live in a separate file (see bot.store.database) with a two-table schema of its
own, created if missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlite_utils
from sqlite_utils.migrations import Migrations

#: The store's own tables.
MIGRATIONS = Migrations("reflect")

#: Migration sets of other modules, applied after the store's own.
REGISTERED: list[Migrations] = []


def register(migrations: Migrations) -> Migrations:
    """Have `migrations` applied whenever a store is opened. Returns it, for decorating."""
    if all(existing.name != migrations.name for existing in REGISTERED):
        REGISTERED.append(migrations)
    return migrations


#: Functions that erase a person's rows from other modules' tables, given the pseudonym.
Eraser = Callable[[sqlite_utils.Database, str], None]
ERASERS: list[Eraser] = []


def register_eraser(eraser: Eraser) -> Eraser:
    """Have `eraser(db, pseudonym)` run inside the transaction of every `forget`, so a module
    that keeps its own tables about people erases them too. Returns it, for decorating."""
    if eraser not in ERASERS:
        ERASERS.append(eraser)
    return eraser


def migrate(db: sqlite_utils.Database, *, extra: Iterable[Migrations] = ()) -> None:
    """Apply every pending migration: the store's, the registered sets', then `extra`."""
    for migrations in (MIGRATIONS, *REGISTERED, *extra):
        migrations.apply(db)


def _run(db: sqlite_utils.Database, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


@MIGRATIONS(name="001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    """Sessions, reflections, their answers and content-free events, keyed by pseudonym."""
    _run(
        db,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # state: Session.to_json(), sealed under the person's data key
        "CREATE TABLE sessions (pseudonym TEXT PRIMARY KEY, flow_id TEXT NOT NULL,"
        " state BLOB NOT NULL, updated_at TEXT NOT NULL)",
        # summary: the rendered summary, redacted and sealed
        "CREATE TABLE reflections (id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " flow_id TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,"
        " summary BLOB NOT NULL)",
        "CREATE INDEX reflections_by_person ON reflections (pseudonym, finished_at)",
        # value: JSON for scale, choice and multi answers (in clear, for aggregates);
        # sealed: JSON of a free-text answer, redacted and sealed
        "CREATE TABLE answers (reflection_id TEXT NOT NULL"
        " REFERENCES reflections (id) ON DELETE CASCADE, step_id TEXT NOT NULL,"
        " position INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT, sealed BLOB,"
        " PRIMARY KEY (reflection_id, step_id))",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " event TEXT NOT NULL, flow_id TEXT, at TEXT NOT NULL)",
        "CREATE INDEX events_by_person ON events (pseudonym, event, at)",
    )


@MIGRATIONS(name="002_seen_events")
def _seen_events(db: sqlite_utils.Database) -> None:
    """Slack event ids already handled (as keyed digests), to drop Slack's retries."""
    _run(
        db,
        "CREATE TABLE seen_events (digest TEXT PRIMARY KEY, at TEXT NOT NULL)",
        "CREATE INDEX seen_events_by_time ON seen_events (at)",
    )


@MIGRATIONS(name="003_time_indexes")
def _time_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for retention and weekly aggregates."""
    _run(
        db,
        "CREATE INDEX reflections_by_time ON reflections (finished_at, flow_id)",
        "CREATE INDEX events_by_time ON events (at, event)",
        "CREATE INDEX sessions_by_time ON sessions (updated_at)",
    )


@MIGRATIONS(name="004_scale_marks_and_follow_up")
def _scale_marks_and_follow_up(db: sqlite_utils.Database) -> None:
    """Scale answers say how they read (bounds and heavy end). Every one kept before this was
    from a scale running 1..5 with its heavy end at 1, and is marked so. Reflections say which
    answer is the leader's next step and what became of it; people's settings (follow-up)."""
    _run(
        db,
        # scale: JSON {"min": 1, "max": 5, "heavy": "max"} for scale answers, else NULL
        "ALTER TABLE answers ADD COLUMN scale TEXT",
        'UPDATE answers SET scale = \'{"min": 1, "max": 5, "heavy": "min"}\''
        " WHERE kind = 'scale'",
        # next_step: the step id of the answer to ask about next time;
        # follow_up: open, carried, done or dropped (NULL: no next step written)
        "ALTER TABLE reflections ADD COLUMN next_step TEXT",
        "ALTER TABLE reflections ADD COLUMN follow_up TEXT",
        "CREATE INDEX reflections_follow_up ON reflections (pseudonym, follow_up, finished_at)",
        "CREATE TABLE preferences (pseudonym TEXT NOT NULL, name TEXT NOT NULL,"
        " value TEXT NOT NULL, PRIMARY KEY (pseudonym, name))",
    )


def ensure_keys_schema(db: sqlite_utils.Database, *, schema: str) -> None:
    """The keys file's tables: its identity and the wrapped data keys."""
    _run(
        db,
        f"CREATE TABLE IF NOT EXISTS {schema}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {schema}.data_keys (pseudonym TEXT PRIMARY KEY,"
        " wrapped BLOB NOT NULL, created_at TEXT NOT NULL)",
    )
