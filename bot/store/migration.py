"""`reflect db`'s view of the schema: which migrations are pending, and applying them, on
whichever database the settings name (SQLite file or PostgreSQL)."""

from __future__ import annotations

import contextlib

import sqlite_utils

from bot.settings import Settings
from bot.store import open_store, schema


def where(settings: Settings) -> str:
    """The database the settings name, for messages (never a password)."""
    if settings.database_url is not None:
        from bot.store.pg_database import describe

        assert settings.keys_database_url is not None
        return (
            f"PostgreSQL {describe(settings.database_url)} "
            f"(keys: {describe(settings.keys_database_url)})"
        )
    return f"SQLite {settings.db_path}"


def pending(settings: Settings) -> list[str]:
    """`set/name` of every migration not yet applied. Changes nothing."""
    if settings.database_url is not None:
        from bot.store.pg_opening import pending_at

        assert settings.keys_database_url is not None
        return pending_at(settings.database_url, keys_url=settings.keys_database_url)
    sets = [schema.MIGRATIONS]
    if settings.db_path.exists():
        db = sqlite_utils.Database(settings.db_path)
    else:  # a new file: everything is pending
        db = sqlite_utils.Database(memory=True)
    with contextlib.closing(db.conn):
        return [f"{each.name}/{step.name}" for each in sets for step in each.pending(db)]


def migrate(settings: Settings) -> list[str]:
    """Apply every pending migration (creating the databases if need be); returns those
    applied, in order."""
    if settings.database_url is not None:
        with open_store(settings) as store:
            return list(getattr(store, "applied_migrations", []))
    before = pending(settings)
    open_store(settings).close()
    return before
