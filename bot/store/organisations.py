"""Each organisation's own settings, and who belongs to it, on either store.

`organisation_settings` holds, per organisation, the text of each setting its admin gave
(signposts and supervisor directory as YAML, the default flow, the retention period), sealed
under the service key. The organisation is a keyed digest of its Slack team or enterprise id,
so the database names no workspace. Checking the texts is the engine's job
(bot.engine.organisation); this module only keeps them.

`organisation_members` says which pseudonyms belong to which organisation: recorded when a
person's organisation is first looked up in a process, it is what lets an organisation's
shorter retention period reach its people's reflections (`purge_shorter`). It links
pseudonyms to an organisation's digest, nothing more; `forget` removes the person's row.

Works on the SQLite and the PostgreSQL store alike, through their `reading()` and `writing()`
transactions (the two differ only in their parameter marks and how they keep times).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.organisation import Organisation, resolve
from bot.engine.people import Person
from bot.store.sqlite import SqliteStore
from bot.store.times import stamp

log = logging.getLogger(__name__)

#: The purpose an organisation's id is digested for.
ORGANISATION_PURPOSE = "organisation"
#: Tables and columns a retention purge reaches, with the time each row is judged by.
_AGED = (("reflections", "finished_at"), ("events", "at"), ("sessions", "updated_at"))


def _aad(organisation: str, name: str) -> str:
    return f"organisation_settings/{organisation}/{name}"


class OrganisationSettings:
    """The settings texts of organisations, by their Slack team or enterprise id."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._sqlite = isinstance(store, SqliteStore)
        self._mark = "?" if self._sqlite else "%s"
        self._members_seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def key(self, organisation_id: str) -> str:
        """What the database keeps for an organisation: a keyed digest of its id."""
        return str(self._store.keyring.digest(organisation_id, purpose=ORGANISATION_PURPOSE))

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._mark)

    def _time(self, at: dt.datetime) -> Any:
        return stamp(at) if self._sqlite else at.astimezone(dt.UTC)

    # ------------------------------------------------------------------ settings

    def texts(self, organisation_id: str) -> dict[str, str]:
        """Every setting the organisation has set, by name, as its admin gave it."""
        key = self.key(organisation_id)
        with self._store.reading() as db:
            rows = db.execute(
                self._sql("SELECT name, value FROM organisation_settings WHERE organisation = ?"),
                [key],
            ).fetchall()
        keyring = self._store.keyring
        return {name: keyring.unseal(bytes(value), aad=_aad(key, name)) for name, value in rows}

    def put(self, organisation_id: str, name: str, text: str, *, at: dt.datetime) -> None:
        """Set (or replace) one setting. Check it first: this keeps whatever it is given."""
        key = self.key(organisation_id)
        sealed = self._store.keyring.seal(text, aad=_aad(key, name))
        with self._store.writing() as db:
            db.execute(
                self._sql(
                    "INSERT INTO organisation_settings (organisation, name, value, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (organisation, name) DO UPDATE"
                    " SET value = excluded.value, updated_at = excluded.updated_at"
                ),
                [key, name, sealed, stamp(at)],
            )

    def remove(self, organisation_id: str, name: str | None = None) -> int:
        """Go back to the default for one setting, or (no name) for all. Returns how many
        settings were removed."""
        key = self.key(organisation_id)
        where, params = "organisation = ?", [key]
        if name is not None:
            where, params = "organisation = ? AND name = ?", [key, name]
        with self._store.writing() as db:
            cursor = db.execute(
                self._sql(f"DELETE FROM organisation_settings WHERE {where}"), params
            )
            return int(cursor.rowcount or 0)

    def erase(self, organisation_id: str) -> None:
        """Remove everything kept about the organisation here: its settings and its list of
        members (for an organisation that uninstalled Reflect)."""
        key = self.key(organisation_id)
        with self._store.writing() as db:
            for table in ("organisation_settings", "organisation_members"):
                db.execute(self._sql(f"DELETE FROM {table} WHERE organisation = ?"), [key])
        with self._lock:
            self._members_seen = {pair for pair in self._members_seen if pair[0] != key}

    # ------------------------------------------------------------------ members and retention

    def note_member(self, organisation_id: str, pseudonym: str) -> None:
        """Record that the pseudonym belongs to the organisation (once per process)."""
        pair = (self.key(organisation_id), pseudonym)
        with self._lock:
            if pair in self._members_seen:
                return
        with self._store.writing() as db:
            db.execute(
                self._sql(
                    "INSERT INTO organisation_members (organisation, pseudonym) VALUES (?, ?)"
                    " ON CONFLICT (organisation, pseudonym) DO NOTHING"
                ),
                list(pair),
            )
        with self._lock:
            self._members_seen.add(pair)

    def forget_member(self, pseudonym: str) -> None:
        """Remove the person from every organisation's list (after `forget`)."""
        with self._store.writing() as db:
            db.execute(
                self._sql("DELETE FROM organisation_members WHERE pseudonym = ?"), [pseudonym]
            )
        with self._lock:
            self._members_seen = {pair for pair in self._members_seen if pair[1] != pseudonym}

    def retention_days(self) -> dict[str, int]:
        """Each organisation's own retention period, by digest, as stored (checked when set)."""
        with self._store.reading() as db:
            rows = db.execute(
                "SELECT organisation, value FROM organisation_settings"
                " WHERE name = 'retention-days'"
            ).fetchall()
        keyring = self._store.keyring
        found = {}
        for key, value in rows:
            text = keyring.unseal(bytes(value), aad=_aad(key, "retention-days")).strip()
            if text.isdigit():
                found[key] = int(text)
        return found

    def purge_shorter(self, *, now: dt.datetime, longest_days: int) -> int:
        """Delete the reflections, events and sessions of each organisation's members that are
        older than the organisation's own retention period, where it is shorter than the
        server's (`longest_days`; the store's `purge` applies that one to everyone). Returns
        how many reflections went."""
        gone = 0
        for key, days in self.retention_days().items():
            if days >= longest_days:
                continue
            cutoff = self._time(now - dt.timedelta(days=days))
            members = (
                "pseudonym IN (SELECT pseudonym FROM organisation_members WHERE organisation = ?)"
            )
            with self._store.writing() as db:
                for table, column in _AGED:
                    cursor = db.execute(
                        self._sql(f"DELETE FROM {table} WHERE {column} < ? AND {members}"),
                        [cutoff, key],
                    )
                    if table == "reflections":
                        gone += int(cursor.rowcount or 0)
        return gone


@dataclass(kw_only=True, eq=False)
class Organisations:
    """A person's organisation's settings, over the defaults: what `Conversations` is given
    as `organisation_of`. The checked result is kept in memory until the texts change."""

    kept: OrganisationSettings
    defaults: Organisation
    flows: frozenset[str]
    workspace_of: Callable[[Person], str | None]
    pseudonym: Callable[[Person], str]
    warn: Callable[[str], None]
    _checked: dict[str, tuple[dict[str, str], Organisation]] = field(
        default_factory=dict, init=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __call__(self, person: Person) -> Organisation | None:
        workspace = self.workspace_of(person)
        if workspace is None:
            return None
        try:
            # Asked inside a SQLite read transaction (a view being drawn), which cannot write:
            # the next request, in a writing one, records it.
            with contextlib.suppress(RuntimeError):
                self.kept.note_member(workspace, self.pseudonym(person))
            return self.of(workspace)
        except Exception as error:
            # Crisis support must never wait on an organisation's settings: the defaults apply.
            log.warning(
                "organisation settings unavailable, defaults used: %s", type(error).__name__
            )
            return None

    def of(self, workspace: str) -> Organisation:
        """The settings that apply in the workspace (Slack team or enterprise id)."""
        texts = self.kept.texts(workspace)
        if not texts:
            return self.defaults
        key = self.kept.key(workspace)
        with self._lock:
            found = self._checked.get(key)
        if found is not None and found[0] == texts:
            return found[1]
        organisation = resolve(
            texts, defaults=self.defaults, flows=self.flows, source=f"organisation {key[:8]}"
        )
        for warning in organisation.warnings:
            self.warn(warning)
        with self._lock:
            self._checked[key] = (texts, organisation)
        return organisation
