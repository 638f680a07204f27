"""Organisations in the PostgreSQL store: the same key hierarchy as bot.store.orgs (the secret
wraps each organisation's key, which wraps its people's data keys), with the keys in the keys
database and organisations' standing in the data database.

`PgOrganisations` is mixed into PostgresStore: erasing one organisation whole, moving people
kept before organisation keys under their workspace's, and the standing an uninstall sets.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from bot.engine.people import Person
from bot.store.privacy import Keyring, new_data_key, unwrap_under, wrap_under

if TYPE_CHECKING:
    from bot.store.pg_database import Connection, PgDatabases

log = logging.getLogger(__name__)


def org_keys(keys: Connection, keyring: Keyring, orgs: set[str]) -> dict[str, bytes]:
    """These organisations' keys, unwrapped (those destroyed are missing)."""
    if not orgs:
        return {}
    found = keys.execute(
        "SELECT org, wrapped FROM org_keys WHERE org = ANY(%s)", [sorted(orgs)]
    ).fetchall()
    return {org: keyring.unwrap_org_key(bytes(wrapped), org=org) for org, wrapped in found}


def data_keys(keys: Connection, keyring: Keyring, people: list[str]) -> dict[str, bytes]:
    """The data keys of `people` who have one (and whose organisation key is not gone)."""
    if not people:
        return {}
    found = keys.execute(
        "SELECT pseudonym, wrapped, org FROM data_keys WHERE pseudonym = ANY(%s)", [people]
    ).fetchall()
    by_org = org_keys(keys, keyring, {org for _, _, org in found if org is not None})
    unwrapped: dict[str, bytes] = {}
    for who, wrapped, org in found:
        if org is None:
            unwrapped[who] = keyring.unwrap(bytes(wrapped), pseudonym=who)
        elif org in by_org:
            unwrapped[who] = unwrap_under(by_org[org], bytes(wrapped), pseudonym=who, org=org)
    return unwrapped


def add_data_key(
    keys: Connection, keyring: Keyring, who: str, *, org: str | None, at: dt.datetime
) -> None:
    """A data key for the person (if they have none), under their organisation's key."""
    fresh = new_data_key()
    if org is None:
        wrapped = keyring.wrap(fresh, pseudonym=who)
    else:
        keys.execute(
            "INSERT INTO org_keys (org, wrapped, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (org) DO NOTHING",
            [org, keyring.wrap_org_key(new_data_key(), org=org), at],
        )
        key = org_keys(keys, keyring, {org})[org]
        wrapped = wrap_under(key, fresh, pseudonym=who, org=org)
    keys.execute(
        "INSERT INTO data_keys (pseudonym, wrapped, created_at, org) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (pseudonym) DO NOTHING",
        [who, wrapped, at, org],
    )


def data_key_under(
    keys: Connection, keyring: Keyring, who: str, *, org: str, at: dt.datetime
) -> bytes | None:
    """The person's data key, moved under `org`'s key first if another organisation's key (or
    the secret) wraps it (as bot.store.orgs.data_key_under). None if they have none."""
    row = keys.execute("SELECT org FROM data_keys WHERE pseudonym = %s", [who]).fetchone()
    key = data_keys(keys, keyring, [who]).get(who)
    if row is None or key is None or row[0] == org:
        return key
    keys.execute(
        "INSERT INTO org_keys (org, wrapped, created_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (org) DO NOTHING",
        [org, keyring.wrap_org_key(new_data_key(), org=org), at],
    )
    target = org_keys(keys, keyring, {org})[org]
    keys.execute(
        "UPDATE data_keys SET wrapped = %s, org = %s WHERE pseudonym = %s",
        [wrap_under(target, key, pseudonym=who, org=org), org, who],
    )
    return key


class PgOrganisations:
    """Organisation-wide operations of PostgresStore."""

    _db: PgDatabases
    keyring: Keyring
    _clock: Any

    def _delete_rows(self, who: str) -> int:  # provided by PostgresStore
        raise NotImplementedError

    def known(self, person: Person) -> bool:
        """Whether anything is kept for the person (they have a data key)."""
        with self._db.keys() as keys:
            row = keys.execute(
                "SELECT 1 FROM data_keys WHERE pseudonym = %s",
                [self.keyring.pseudonym(person.id)],
            ).fetchone()
        return row is not None

    def members(self, org_id: str) -> set[str]:
        with self._db.keys() as keys:
            found = keys.execute(
                "SELECT pseudonym FROM data_keys WHERE org = %s", [self.keyring.org(org_id)]
            ).fetchall()
        return {row[0] for row in found}

    def adopt_people(self, org_id: str) -> int:
        """Put everyone kept without an organisation under this organisation's key."""
        org = self.keyring.org(org_id)
        with self._db.keys() as keys, keys.transaction():
            keys.execute(
                "INSERT INTO org_keys (org, wrapped, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (org) DO NOTHING",
                [org, self.keyring.wrap_org_key(new_data_key(), org=org), self._clock()],
            )
            key = org_keys(keys, self.keyring, {org})[org]
            loose = keys.execute(
                "SELECT pseudonym, wrapped FROM data_keys WHERE org IS NULL FOR UPDATE"
            ).fetchall()
            for who, wrapped in loose:
                plain = self.keyring.unwrap(bytes(wrapped), pseudonym=who)
                keys.execute(
                    "UPDATE data_keys SET wrapped = %s, org = %s WHERE pseudonym = %s",
                    [wrap_under(key, plain, pseudonym=who, org=org), org, who],
                )
        return len(loose)

    def move_people(self, source_id: str, target_id: str) -> int:
        """Put the people kept under one organisation's key under another's."""
        source, target = self.keyring.org(source_id), self.keyring.org(target_id)
        with self._db.keys() as keys, keys.transaction():
            people = [
                row[0]
                for row in keys.execute(
                    "SELECT pseudonym FROM data_keys WHERE org = %s FOR UPDATE", [source]
                ).fetchall()
            ]
            for who in people:
                data_key_under(keys, self.keyring, who, org=target, at=self._clock())
        return len(people)

    def erase_organisation(self, org_id: str) -> int:
        """The organisation's key and its people's data keys first, then their rows."""
        return self._erase_org(self.keyring.org(org_id))

    def _erase_org(self, org: str) -> int:
        with self._db.keys() as keys, keys.transaction():
            people = [
                row[0]
                for row in keys.execute(
                    "DELETE FROM data_keys WHERE org = %s RETURNING pseudonym", [org]
                ).fetchall()
            ]
            keys.execute("DELETE FROM org_keys WHERE org = %s", [org])
        gone = sum(self._delete_rows(who) for who in people)
        with self._db.writing() as conn:
            conn.execute("UPDATE organisations SET erase_after = NULL WHERE org = %s", [org])
        log.info("erased an organisation: %d people, %d reflections", len(people), gone)
        return gone

    def uninstalled(self, org_id: str, *, at: dt.datetime, erase_after: dt.datetime) -> None:
        with self._db.writing() as conn:
            conn.execute(
                "INSERT INTO organisations (org, uninstalled_at, erase_after)"
                " VALUES (%s, %s, %s) ON CONFLICT (org) DO UPDATE SET"
                " uninstalled_at = coalesce(organisations.uninstalled_at,"
                " excluded.uninstalled_at),"
                " erase_after = coalesce(organisations.erase_after, excluded.erase_after)",
                [self.keyring.org(org_id), at, erase_after],
            )

    def is_uninstalled(self, org_id: str) -> bool:
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT uninstalled_at FROM organisations WHERE org = %s",
                [self.keyring.org(org_id)],
            ).fetchone()
        return row is not None and row[0] is not None

    def reinstalled(self, org_id: str) -> None:
        if self.is_uninstalled(org_id):
            self.erase_organisation(org_id)
        with self._db.writing() as conn:
            conn.execute("DELETE FROM organisations WHERE org = %s", [self.keyring.org(org_id)])

    def erase_due(self, *, now: dt.datetime) -> int:
        with self._db.reading() as conn:
            due = [
                row[0]
                for row in conn.execute(
                    "SELECT org FROM organisations"
                    " WHERE erase_after IS NOT NULL AND erase_after <= %s",
                    [now],
                ).fetchall()
            ]
        for org in due:
            self._erase_org(org)
        return len(due)
