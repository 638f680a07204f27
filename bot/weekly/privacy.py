"""How the weekly reminders keep people out of the database: pseudonyms and sealed ids.

The store's keyring (bot.store) implements `Keyring`; the scheduler depends only on this port.
A Slack user id is needed in clear only at the moment of sending, so it is kept sealed
(encrypted under the service key) beside the pseudonym, and unsealed then.
"""

from __future__ import annotations

from typing import Protocol


class Keyring(Protocol):
    def pseudonym(self, identity: str) -> str:
        """A stable, keyed, one-way name for a person."""
        ...

    def seal(self, text: str, *, aad: str | bytes) -> bytes:
        """Encrypt a short value (a Slack id) under the service key, bound to `aad`."""
        ...

    def unseal(self, blob: bytes, *, aad: str | bytes) -> str: ...

    def digest(self, value: str, *, purpose: str) -> str:
        """A keyed one-way digest of an identifier (a team's channel id), per purpose."""
        ...


def slack_identity(*, workspace: str, user: str) -> str:
    """The identity a Slack person is known by: the same string the Slack app gives the engine
    as `Person.id` (bot.slack.identity), so the store's pseudonym for it matches ours."""
    return f"{workspace}:{user}"


def recipient_aad(person: str) -> str:
    """Associated data for a reminder recipient's sealed user id: bound to their pseudonym."""
    return f"weekly/recipient/{person}"


def lead_aad(*, channel: str, lead: str) -> str:
    """Associated data for a team lead's sealed user id: bound to the team and the lead."""
    return f"weekly/lead/{channel}/{lead}"
