"""The store: SQLite behind the engine's ReflectionStore port, private by design.

`open_store(settings)` is what commands and transports call. See bot.store.sqlite for the
store, bot.store.privacy for pseudonyms and encryption, bot.store.schema for migrations (and
how another module adds its own tables), bot.store.stats for safe aggregates.
"""

from __future__ import annotations

from bot.settings import Settings
from bot.store.errors import KeysMissingError, StoreError, UnreadableError, WrongSecretError
from bot.store.privacy import Keyring
from bot.store.secret import load_or_create_secret
from bot.store.sqlite import SqliteStore

__all__ = [
    "Keyring",
    "KeysMissingError",
    "SqliteStore",
    "StoreError",
    "UnreadableError",
    "WrongSecretError",
    "load_or_create_secret",
    "open_store",
]


def open_store(settings: Settings) -> SqliteStore:
    """The store at settings.db_path, creating the secret on first use.

    When a new secret was written, `store.created_secret` says where (tell the operator).
    Raises StoreError (WrongSecretError, KeysMissingError) with a one-line message.
    """
    secret, created = load_or_create_secret(settings)
    store = SqliteStore.open(settings.db_path, secret=secret)
    store.created_secret = created
    return store
