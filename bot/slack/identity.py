"""Who is talking: a Person from a Slack payload, and a short tag to recognise them by.

`Person.id` is exactly ``f"{enterprise_id or team_id}:{user_id}"`` (the store turns it into a
pseudonym). The first name and time zone, when known, are kept in memory only: to greet, and
to say "this evening" in the person's own time.
"""

from __future__ import annotations

import hashlib

from slack_bolt import BoltContext

from bot.engine.people import Person


def person(
    *,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str,
    first_name: str | None = None,
    timezone: str | None = None,
) -> Person:
    workspace = enterprise_id or team_id
    if not workspace:
        raise ValueError("a Slack payload without a team or enterprise id")
    return Person(id=f"{workspace}:{user_id}", first_name=first_name, timezone=timezone)


def workspace_of(who: Person) -> str | None:
    """The organisation a person from `person` belongs to (enterprise id on Enterprise Grid,
    else team id); None for anyone else (the terminal's people)."""
    workspace, sep, user = who.id.partition(":")
    if not sep or not user or workspace[:1] not in ("T", "E") or not workspace.isalnum():
        return None
    return workspace


def person_in(
    context: BoltContext, *, first_name: str | None = None, timezone: str | None = None
) -> Person | None:
    """The person a request comes from, or None if the payload names no user."""
    if not context.user_id or not (context.enterprise_id or context.team_id):
        return None
    return person(
        enterprise_id=context.enterprise_id,
        team_id=context.team_id,
        user_id=context.user_id,
        first_name=first_name,
        timezone=timezone,
    )


def owner_tag(who: Person) -> str:
    """A short, one-way tag put on a person's buttons so a click by anyone else is refused."""
    return hashlib.sha256(f"reflect-owner:{who.id}".encode()).hexdigest()[:16]
