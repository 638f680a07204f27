"""What can go wrong when opening or reading the store, as exceptions with messages that say
what to do. Callers (the CLI, `reflect run`) print `str(error)` as one line."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used as it is; the message says why and what to do."""


class WrongSecretError(StoreError):
    """The secret key does not open this database (wrong, missing or unusable)."""


class KeysMissingError(StoreError):
    """The database holds reflections but the file with their data keys is missing or foreign."""


class UnreadableError(StoreError):
    """A sealed value did not decrypt: its key was destroyed, or it was moved to another row."""
