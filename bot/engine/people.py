"""Who a conversation is with, as far as the engine needs to know."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """A leader, identified by their transport.

    `id` is the transport's own identity, e.g. ``slack:T012:U345`` or ``terminal:alex``. The
    engine never stores or logs it: the store turns it into a pseudonym at its boundary.
    `first_name` is used only to greet, never stored.
    """

    id: str
    first_name: str | None = None

    def __repr__(self) -> str:  # keep identities out of logs and tracebacks
        return "Person(<redacted>)"
