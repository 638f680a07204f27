"""Who is talking: a Person from a Slack payload, and a short tag to recognise them by.

`Person.id` is ``f"{enterprise_id or team_id}:{user_id}"`` (the store turns it into a
pseudonym): on Enterprise Grid a person is one person across the organisation's workspaces.
A workspace that joins a Grid organisation after its people started keeps them: when the
organisation-wide id is not known to the store but the workspace one is, the workspace one is
used (`person_in` with `known`), so their history stays theirs.

`Person.org` is the organisation whose installation the request came through: the Grid
organisation for an org-wide install, else the workspace (bot.store.orgs keys its people's
data under it, so that an uninstall erases it whole).

The first name and time zone, when known, are kept in memory only: to greet, and to say
"this evening" in the person's own time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from slack_bolt import BoltContext

from bot.engine.people import Person


def org_of(*, enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> str | None:
    """The organisation an installation, or a request through it, belongs to: the Grid
    organisation for an org-wide install, else the workspace."""
    if org_wide and enterprise_id:
        return enterprise_id
    return team_id or enterprise_id


def installation_key(
    *, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
) -> str | None:
    """The installation a request came through, as bot.slack.tokens.InstallationTokens finds
    it again outside a request: the Grid organisation's id for an org-wide install (``E…``);
    for a workspace's own install, its team id (``T…``), preceded inside a Grid organisation
    by the organisation's (``E…/T…``: should the organisation later install org-wide and take
    the workspace over, its install is the one to use). None when the request names neither."""
    if org_wide and enterprise_id:
        return enterprise_id
    if team_id:
        return f"{enterprise_id}/{team_id}" if enterprise_id else team_id
    return enterprise_id


def installation_in(context: BoltContext) -> str | None:
    """`installation_key` of the request `context` is about (Bolt's authorisation)."""
    return installation_key(
        enterprise_id=context.enterprise_id,
        team_id=context.team_id,
        org_wide=context.is_enterprise_install,
    )


def person(
    *,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str,
    org_wide: bool | None = False,
    first_name: str | None = None,
    timezone: str | None = None,
    known: Callable[[Person], bool] | None = None,
) -> Person:
    workspace = enterprise_id or team_id
    if not workspace:
        raise ValueError("a Slack payload without a team or enterprise id")
    org = org_of(enterprise_id=enterprise_id, team_id=team_id, org_wide=org_wide)
    found = Person(id=f"{workspace}:{user_id}", first_name=first_name, timezone=timezone, org=org)
    if known is not None and enterprise_id and team_id and not known(found):
        before = Person(
            id=f"{team_id}:{user_id}", first_name=first_name, timezone=timezone, org=org
        )
        if known(before):  # kept from before the workspace joined the organisation
            return before
    return found


def workspace_of(who: Person) -> str | None:
    """The organisation a person from `person` belongs to (enterprise id on Enterprise Grid,
    else team id); None for anyone else (the terminal's people)."""
    workspace, sep, user = who.id.partition(":")
    if not sep or not user or workspace[:1] not in ("T", "E") or not workspace.isalnum():
        return None
    return workspace


def person_in(
    context: BoltContext,
    *,
    first_name: str | None = None,
    timezone: str | None = None,
    known: Callable[[Person], bool] | None = None,
) -> Person | None:
    """The person a request comes from, or None if the payload names no user."""
    if not context.user_id or not (context.enterprise_id or context.team_id):
        return None
    return person(
        enterprise_id=context.enterprise_id,
        team_id=context.team_id,
        user_id=context.user_id,
        org_wide=context.is_enterprise_install,
        first_name=first_name,
        timezone=timezone,
        known=known,
    )


def owner_tag(who: Person) -> str:
    """A short, one-way tag put on a person's buttons so a click by anyone else is refused."""
    return hashlib.sha256(f"reflect-owner:{who.id}".encode()).hexdigest()[:16]
