"""The store: SQLite (the embedded default) or PostgreSQL behind the engine's ReflectionStore
port, private by design.

`open_store(settings)` is what commands and transports call: PostgreSQL when
REFLECT_DATABASE_URL is set, else the SQLite file. See bot.store.sqlite and bot.store.postgres
for the stores, bot.store.privacy for pseudonyms and encryption, bot.store.schema and
bot.store.pg_schema for migrations (and how another module adds its own tables),
bot.store.stats for safe aggregates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.store.errors import KeysMissingError, StoreError, UnreadableError, WrongSecretError

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store.postgres import PostgresStore
    from bot.store.privacy import Keyring
    from bot.store.secret import load_or_create_secret
    from bot.store.sqlite import SqliteStore

#: Names this package gives from its modules, imported when first asked for: `reflect --help`
#: and the commands that need no store import the errors alone (sqlite-utils, the
#: cryptography and the schema take a while to import).
_LAZY = {
    "Keyring": "bot.store.privacy",
    "SqliteStore": "bot.store.sqlite",
    "load_or_create_secret": "bot.store.secret",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Either store: they keep the same contract (tests/store/test_contract.py runs on both).
Store: TypeAlias = "SqliteStore | PostgresStore"

__all__ = [
    "Keyring",
    "KeysMissingError",
    "SqliteStore",
    "Store",
    "StoreError",
    "UnreadableError",
    "WrongSecretError",
    "load_or_create_secret",
    "open_store",
]


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The store the settings name, creating the secret on first use.

    PostgreSQL when `settings.database_url` is set (pending migrations applied unless
    `migrate` is False), else the SQLite file at settings.db_path. When a new secret was
    written, `store.created_secret` says where (tell the operator). Raises StoreError
    (WrongSecretError, KeysMissingError) with a one-line message.
    """
    from bot.store.secret import load_or_create_secret
    from bot.store.sqlite import SqliteStore

    secret, created = load_or_create_secret(settings)
    store: Store
    if settings.database_url is not None:
        store = _open_postgres(settings, secret=secret, migrate=migrate)
    else:
        store = SqliteStore.open(settings.db_path, secret=secret)
    store.created_secret = created
    return store


def _open_postgres(settings: Settings, *, secret: bytes, migrate: bool) -> PostgresStore:
    try:  # psycopg is needed only for PostgreSQL
        from bot.store.postgres import PostgresStore
    except ImportError as error:
        raise StoreError(
            "REFLECT_DATABASE_URL is set but psycopg is not installed: "
            "pip install 'reflect-bot[postgres]'."
        ) from error
    assert settings.database_url is not None and settings.keys_database_url is not None
    return PostgresStore.open(
        settings.database_url,
        keys_url=settings.keys_database_url,
        secret=secret,
        migrate=migrate,
        pool_size=settings.database_pool_size,
    )
