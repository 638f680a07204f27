"""Organisations in the SQLite store: their keys, and erasing one of them whole.

The key hierarchy (bot.store.privacy): the server secret wraps each organisation's random key
(`org_keys` in the keys file); an organisation key wraps the data key of each person who came
through that organisation's installation (`data_keys.org`); a data key seals the person's
rows. People with no organisation (the terminal; people kept before installations existed,
until `adopt` moves them) have their data key wrapped by the secret directly.

Organisations are named in the database by a keyed digest of their Slack id (`Keyring.org`),
never by the id itself.

Erasing an organisation (`SqliteOrganisations.erase_organisation`): its key goes first, with
its people's data keys, in one transaction on the keys file, so that every reflection of that
organisation becomes unreadable in the database and in every earlier backup at once; then its
people's rows go;
then the WAL is checkpointed. A crash between the two leaves only rows without a key, which
the retention purge removes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager

import sqlite_utils

from bot.engine.people import Person
from bot.store.database import KEYS
from bot.store.privacy import Keyring, new_data_key, unwrap_under, wrap_under
from bot.store.stats import Activity
from bot.store.times import stamp

log = logging.getLogger(__name__)


def org_key(db: sqlite_utils.Database, keyring: Keyring, org: str) -> bytes | None:
    """The organisation's key, unwrapped; None if it has none (never made, or destroyed)."""
    row = db.execute(f"SELECT wrapped FROM {KEYS}.org_keys WHERE org = ?", [org]).fetchone()
    return keyring.unwrap_org_key(row[0], org=org) if row else None


def ensure_org_key(
    db: sqlite_utils.Database, keyring: Keyring, org: str, *, at: dt.datetime
) -> bytes:
    """The organisation's key, made now if it has none (inside the caller's transaction)."""
    found = org_key(db, keyring, org)
    if found is not None:
        return found
    made = new_data_key()
    db.execute(
        f"INSERT INTO {KEYS}.org_keys (org, wrapped, created_at) VALUES (?, ?, ?)",
        [org, keyring.wrap_org_key(made, org=org), stamp(at)],
    )
    return made


def data_key(db: sqlite_utils.Database, keyring: Keyring, who: str) -> bytes | None:
    """A person's data key, through their organisation's key when they have one; None when
    either is gone."""
    row = db.execute(
        f"SELECT wrapped, org FROM {KEYS}.data_keys WHERE pseudonym = ?", [who]
    ).fetchone()
    if row is None:
        return None
    wrapped, org = row
    if org is None:
        return keyring.unwrap(wrapped, pseudonym=who)
    key = org_key(db, keyring, org)
    return unwrap_under(key, wrapped, pseudonym=who, org=org) if key is not None else None


def data_key_under(
    db: sqlite_utils.Database, keyring: Keyring, who: str, *, org: str, at: dt.datetime
) -> bytes | None:
    """The person's data key, moved under `org`'s key first if another organisation's key (or
    the secret) wraps it: a person's data belongs to the installation that serves them now
    (a workspace's people when an organisation-wide install replaces the workspace's, and
    back). None if they have no key, or it is gone."""
    row = db.execute(
        f"SELECT wrapped, org FROM {KEYS}.data_keys WHERE pseudonym = ?", [who]
    ).fetchone()
    if row is None:
        return None
    key = data_key(db, keyring, who)
    if key is None or row[1] == org:
        return key
    moved = wrap_under(ensure_org_key(db, keyring, org, at=at), key, pseudonym=who, org=org)
    db.execute(
        f"UPDATE {KEYS}.data_keys SET wrapped = ?, org = ? WHERE pseudonym = ?", [moved, org, who]
    )
    return key


def move_people(
    db: sqlite_utils.Database, keyring: Keyring, *, source: str, target: str, at: dt.datetime
) -> int:
    """Move every person under `source`'s key under `target`'s (a workspace's people, when
    an organisation-wide install takes over from the workspace's own). Returns how many."""
    people = members(db, source)
    for who in people:
        data_key_under(db, keyring, who, org=target, at=at)
    return len(people)


def add_data_key(
    db: sqlite_utils.Database, keyring: Keyring, who: str, *, org: str | None, at: dt.datetime
) -> None:
    """A new data key for the person, wrapped under their organisation's key (made if need
    be) or, with no organisation, under the secret."""
    fresh = new_data_key()
    if org is None:
        wrapped = keyring.wrap(fresh, pseudonym=who)
    else:
        wrapped = wrap_under(ensure_org_key(db, keyring, org, at=at), fresh, pseudonym=who, org=org)
    db.execute(
        f"INSERT INTO {KEYS}.data_keys (pseudonym, wrapped, created_at, org) VALUES (?, ?, ?, ?)",
        [who, wrapped, stamp(at), org],
    )


def adopt(db: sqlite_utils.Database, keyring: Keyring, org: str, *, at: dt.datetime) -> int:
    """Move every person with no organisation under `org`'s key (an upgrade from the single
    workspace of earlier releases). Returns how many data keys were rewrapped."""
    key = ensure_org_key(db, keyring, org, at=at)
    loose = db.execute(
        f"SELECT pseudonym, wrapped FROM {KEYS}.data_keys WHERE org IS NULL"
    ).fetchall()
    for who, wrapped in loose:
        rewrapped = wrap_under(key, keyring.unwrap(wrapped, pseudonym=who), pseudonym=who, org=org)
        db.execute(
            f"UPDATE {KEYS}.data_keys SET wrapped = ?, org = ? WHERE pseudonym = ?",
            [rewrapped, org, who],
        )
    return len(loose)


def members(db: sqlite_utils.Database, org: str) -> list[str]:
    """The pseudonyms whose data keys the organisation's key wraps."""
    return [
        row[0]
        for row in db.execute(
            f"SELECT pseudonym FROM {KEYS}.data_keys WHERE org = ?", [org]
        ).fetchall()
    ]


def within(activity: Activity, people: set[str]) -> Activity:
    """The part of `activity` that is these people's (one organisation's aggregates)."""
    reflections = [fact for fact in activity.reflections if fact.pseudonym in people]
    ids = {fact.id for fact in reflections}
    return Activity(
        reflections=reflections,
        scales=[fact for fact in activity.scales if fact.reflection_id in ids],
        events=[fact for fact in activity.events if fact.pseudonym in people],
    )


def destroy_keys(db: sqlite_utils.Database, org: str) -> list[str]:
    """Delete the organisation's key and its people's data keys; returns those people."""
    people = members(db, org)
    db.execute(f"DELETE FROM {KEYS}.data_keys WHERE org = ?", [org])
    db.execute(f"DELETE FROM {KEYS}.org_keys WHERE org = ?", [org])
    return people


# ---------------------------------------------------------------------- standing


def mark_uninstalled(
    db: sqlite_utils.Database, org: str, *, at: dt.datetime, erase_after: dt.datetime
) -> None:
    """The organisation uninstalled the app: its data goes after `erase_after` (an earlier
    uninstall's date is kept, so a repeated event does not put the erasure off)."""
    db.execute(
        "INSERT INTO organisations (org, uninstalled_at, erase_after) VALUES (?, ?, ?)"
        " ON CONFLICT (org) DO UPDATE SET"
        " uninstalled_at = coalesce(uninstalled_at, excluded.uninstalled_at),"
        " erase_after = coalesce(erase_after, excluded.erase_after)",
        [org, stamp(at), stamp(erase_after)],
    )


def is_uninstalled(db: sqlite_utils.Database, org: str) -> bool:
    row = db.execute("SELECT uninstalled_at FROM organisations WHERE org = ?", [org]).fetchone()
    return row is not None and row[0] is not None


def due_for_erasure(db: sqlite_utils.Database, *, now: dt.datetime) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT org FROM organisations WHERE erase_after IS NOT NULL AND erase_after <= ?",
            [stamp(now)],
        ).fetchall()
    ]


def reinstated(db: sqlite_utils.Database, org: str) -> None:
    """The organisation installed the app again (after its erasure): it starts clean."""
    db.execute("DELETE FROM organisations WHERE org = ?", [org])


class SqliteOrganisations:
    """Organisation-wide operations of SqliteStore (which provides what is declared here)."""

    keyring: Keyring
    _clock: Callable[[], dt.datetime]

    def reading(self) -> AbstractContextManager[sqlite_utils.Database]:
        raise NotImplementedError

    def writing(self) -> AbstractContextManager[sqlite_utils.Database]:
        raise NotImplementedError

    def pseudonym(self, person: Person) -> str:
        raise NotImplementedError

    def _delete_rows(self, db: sqlite_utils.Database, who: str) -> int:
        raise NotImplementedError

    def _checkpoint(self) -> None:
        raise NotImplementedError

    def known(self, person: Person) -> bool:
        """Whether anything is kept for the person (they have a data key)."""
        with self.reading() as db:
            row = db.execute(
                f"SELECT 1 FROM {KEYS}.data_keys WHERE pseudonym = ?", [self.pseudonym(person)]
            ).fetchone()
        return row is not None

    def erase_organisation(self, org_id: str) -> int:
        """Erase an organisation whole (see bot.store.orgs): its key and its people's data
        keys first, so every copy of its reflections becomes unreadable, then its rows, then
        the WAL. Returns how many reflections went."""
        return self._erase_org(self.keyring.org(org_id))

    def _erase_org(self, org: str) -> int:
        with self.writing() as db:
            people = destroy_keys(db, org)
        with self.writing() as db:
            gone = sum(self._delete_rows(db, who) for who in people)
            db.execute("UPDATE organisations SET erase_after = NULL WHERE org = ?", [org])
        self._checkpoint()
        log.info("erased an organisation: %d people, %d reflections", len(people), gone)
        return gone

    def members(self, org_id: str) -> set[str]:
        """The pseudonyms kept under the organisation's key (for its own aggregates)."""
        with self.reading() as db:
            return set(members(db, self.keyring.org(org_id)))

    def adopt_people(self, org_id: str) -> int:
        """Put everyone kept without an organisation under this organisation's key (the
        workspace a single-workspace install has always served). Returns how many moved."""
        with self.writing() as db:
            return adopt(db, self.keyring, self.keyring.org(org_id), at=self._clock())

    def move_people(self, source_id: str, target_id: str) -> int:
        """Put the people kept under one organisation's key under another's (see
        `move_people`). Returns how many moved."""
        with self.writing() as db:
            return move_people(
                db,
                self.keyring,
                source=self.keyring.org(source_id),
                target=self.keyring.org(target_id),
                at=self._clock(),
            )

    def uninstalled(self, org_id: str, *, at: dt.datetime, erase_after: dt.datetime) -> None:
        """The organisation uninstalled the app: nothing more is done for it, and its data is
        erased once `erase_after` has passed (`erase_due`)."""
        with self.writing() as db:
            mark_uninstalled(db, self.keyring.org(org_id), at=at, erase_after=erase_after)

    def is_uninstalled(self, org_id: str) -> bool:
        with self.reading() as db:
            return is_uninstalled(db, self.keyring.org(org_id))

    def reinstalled(self, org_id: str) -> None:
        """The organisation installed the app again: whatever an uninstall left waiting for
        erasure is erased now, so that it starts clean."""
        org = self.keyring.org(org_id)
        with self.reading() as db:
            waiting = is_uninstalled(db, org)
        if waiting:
            self.erase_organisation(org_id)
        with self.writing() as db:
            reinstated(db, org)

    def erase_due(self, *, now: dt.datetime) -> int:
        """Erase every uninstalled organisation whose grace period is over; returns how many."""
        with self.reading() as db:
            due = due_for_erasure(db, now=now)
        for org in due:
            self._erase_org(org)
        return len(due)
