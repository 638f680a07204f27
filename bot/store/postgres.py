"""`PostgresStore`: the engine's ReflectionStore on PostgreSQL, for several bot processes.

The same promises as bot.store.sqlite, with the same row logic (bot.store.rows), the same SQL
(bot.store.statements) and the same methods where they do alike (bot.store.base):

- people are pseudonyms; free text is redacted, then sealed under the person's own data key with
  the row's identity as associated data; scale and option values, flow ids and dates stay in
  clear for aggregates;
- data keys live in a separate keys database (bot.store.pg_database). `forget` destroys the key
  first, then the rows (crypto-shredding: every earlier dump of the data database becomes
  unreadable for that person).

Across processes: every change about a person runs under their advisory lock, taken before the
person's key or rows are read, so one person's requests are handled one at a time and in order
whichever process they reach; a data key is committed before any row that uses it, and erasure
and retention take the same lock, so no key can vanish under a writer. A Slack event id is
claimed with INSERT ... ON CONFLICT DO NOTHING: a redelivery reaching another process waits for
the first claim to commit or roll back, then is dropped, or handled if the first one failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store import pg_schema, rows
from bot.store import statements as sql
from bot.store.access_log import AccessRecord
from bot.store.base import RowStore
from bot.store.errors import StoreError, UnreadableError
from bot.store.pg_database import Connection, PgDatabases, describe
from bot.store.pg_opening import (
    apply_migrations,
    check_before_migrating,
    check_separate,
    claim_or_check,
    pending_migrations,
)
from bot.store.pg_orgs import PgOrganisations, add_data_key, data_key_under, data_keys
from bot.store.privacy import Keyring, row_aad, seal
from bot.store.rows import utc as _utc
from bot.store.times import parse, utcnow
from bot.store.upgrade import SEALED
from bot.store.weekly import tables as weekly_tables

log = logging.getLogger(__name__)


def _column(conn: Connection, sql: str, params: list[Any] | None = None) -> list[Any]:
    """The first column of what `sql` selects."""
    return [row[0] for row in conn.execute(sql, params).fetchall()]


def _midnight(at: dt.datetime) -> dt.datetime:
    """The day of `at` (UTC) as events keep it: midnight, never the time."""
    return parse(rows.day(at))


class PostgresStore(RowStore, PgOrganisations):
    """Sessions, reflections and content-free events, per pseudonym, in PostgreSQL (what
    both stores do alike: bot.store.base.RowStore)."""

    SQL = sql.POSTGRES

    #: The weekly reminders' tables (bot.store.weekly) are here too (migration 004), written in
    #: this dialect.
    keeps_weekly_tables = True
    sql_dialect = "postgresql"

    def __init__(
        self,
        databases: PgDatabases,
        keyring: Keyring,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._db = databases
        self.keyring = keyring
        self._clock = clock
        #: Where a secret key was just created by `open_store`, if it was (to tell the user).
        self.created_secret: Path | None = None
        #: `set/name` of the migrations applied when this store was opened.
        self.applied_migrations: list[str] = []

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        url: str,
        *,
        keys_url: str,
        secret: bytes,
        migrate: bool = True,
        migrations: Iterable[pg_schema.PgMigrations] = (),
        pool_size: int = 10,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> PostgresStore:
        """Connect to the data and keys databases, apply pending migrations (unless `migrate`
        is False: then a database that is behind is a StoreError naming `reflect db migrate`),
        and check that `secret` is the one they were created with and that they belong
        together."""
        keyring = Keyring(secret)
        databases = PgDatabases(url, keys_url=keys_url, pool_size=pool_size)
        databases.open()
        try:
            check_separate(databases)
            check_before_migrating(databases, keyring)
            sets = pg_schema.data_sets(migrations)
            behind = pending_migrations(databases, sets)
            applied = apply_migrations(databases, sets) if migrate and behind else []
            if behind and not migrate:
                raise StoreError(
                    f"The database is not up to date ({len(behind)} migrations pending, first "
                    f"{behind[0]}). Run `reflect db migrate` once, then start the bot."
                )
            claim_or_check(databases, keyring)
        except psycopg.Error as error:
            databases.close()
            raise StoreError(
                f"PostgreSQL refused to open the store ({describe(url)}): {error}"
            ) from error
        except BaseException:
            databases.close()
            raise
        store = cls(databases, keyring, clock=clock)
        store.applied_migrations = applied
        try:
            store._seal_clear_rows()
        except BaseException:
            store.close()
            raise
        return store

    def migrate(self, migrations: pg_schema.PgMigrations) -> list[str]:
        """Apply another module's migration set to the data database."""
        with self._db.pool.connection() as conn:
            return pg_schema.migrate(conn, [migrations])

    def close(self) -> None:
        self._db.close()

    def ping(self) -> None:
        """Check that the data and keys databases answer (for /healthz); StoreError if not."""
        self._db.ping()

    def reading(self) -> AbstractContextManager[Connection]:
        """A read-only transaction on the data database, for modules keeping tables here."""
        return self._db.reading()

    def writing(self) -> AbstractContextManager[Connection]:
        """A writing transaction on the data database around a whole request: every store
        call inside it joins it (committed on leaving, rolled back on an exception)."""
        return self._db.writing()

    def lock_person(self, conn: Connection, pseudonym: str) -> None:
        """For modules keeping tables here: serialise changes about a person, across
        processes, for the rest of the current transaction."""
        self._db.lock_person(conn, pseudonym)

    def data_key(
        self, who: str, *, create: bool = False, person: Person | None = None
    ) -> bytes | None:
        """For modules keeping sealed rows here (bot.store.outbox): the person's data key; with
        `create`, made if need be, under the person's lock in the current writing transaction."""
        if not create:
            return self._data_key(who)
        org = self._org(person) if person is not None else None  # under their organisation
        with self._writing_as(who, org=org) as (_, key):
            return key

    # ------------------------------------------------------------------ sessions

    def load_session(self, person: Person) -> Session | None:
        who = self.pseudonym(person)
        # Read to write: inside a request's transaction, take the person's turn first.
        opened = self._locked(who) if self._db.in_writing else self._db.reading()
        with opened as conn:
            state = sql.session_state(self.SQL, conn, who=who)
        if state is None:
            return None
        session = rows.read_session(who, state, lambda: self._data_key(who))
        if session is None:
            self.drop_session(person)
        return session

    # ------------------------------------------------------------------ notices and Slack ids

    def _claim(self, table: str, digest: str, *, at: dt.datetime, kept_for: dt.timedelta) -> bool:
        """Claim `digest` in `table` (seen_events or seen_requests): True if it was not there."""
        with self._db.writing() as conn:
            # Prune what has expired, skipping rows another request is pruning: the claim sits
            # in each request's transaction, and requests must not queue behind each other.
            conn.execute(
                f"DELETE FROM {table} WHERE digest IN (SELECT digest FROM {table}"
                " WHERE at < %s LIMIT 100 FOR UPDATE SKIP LOCKED)",
                [_utc(at - kept_for)],
            )
            return sql.claim(self.SQL, conn, table=table, digest=digest, at=at)

    def first_time(self, person: Person, notice: str) -> bool:
        """True the first time it is asked about this person and notice (by any process),
        then False: for things said once (the first-use agreement)."""
        who = self.pseudonym(person)
        # The person's lock first, as every change about a person takes it: one order of
        # locks everywhere, so two requests can never wait on each other.
        with self._locked(who) as conn:
            return sql.first_time(self.SQL, conn, who=who, notice=notice)

    # ------------------------------------------------------------------ erasure and retention

    def forget(self, person: Person) -> int:
        """Erase everything about the person: their data key first (so every earlier dump of
        the data database becomes unreadable for them), then their rows."""
        who = self.pseudonym(person)
        with self._locked(who):
            with self._db.keys() as keys:
                keys.execute("DELETE FROM data_keys WHERE pseudonym = %s", [who])
            gone = self._delete_rows(who)
        log.info("erased a person's data: %d reflections", gone)
        return gone

    def _delete_rows(self, who: str) -> int:
        """Under the person's lock, delete every row of theirs (their key is already gone);
        returns how many reflections went."""
        with self._locked(who) as conn:
            gone = sql.erase_person(self.SQL, conn, who=who)
            weekly_tables.erase_on_postgres(conn, who)
            for erase in pg_schema.ERASERS:
                erase(conn, who)
        return gone

    def purge(self, *, older_than: dt.datetime) -> int:
        """Delete reflections finished, events recorded and sessions left before `older_than`;
        rows whose data key is gone, which can never be read again; and the data keys of
        people with nothing left, so that earlier dumps lose them too. Returns how many
        reflections went."""
        cutoff = _utc(older_than)
        with self._db.writing() as conn:
            aged = sql.purge_aged(self.SQL, conn, older_than=older_than)
        unreadable = sum(self._purge_keyless(who) for who in self._keyless_people())
        for who in self._people_with_old_keys(cutoff):
            self._purge_unused_key(who, cutoff)
        log.info("retention purge: %d reflections aged out, %d unreadable", aged, unreadable)
        return aged + unreadable

    def _keyless_people(self) -> list[str]:
        with self._db.reading() as conn:
            holding = _column(
                conn, "SELECT pseudonym FROM reflections UNION SELECT pseudonym FROM sessions"
            )
        if not holding:
            return []
        with self._db.keys() as keys:
            keyed = set(
                _column(
                    keys, "SELECT pseudonym FROM data_keys WHERE pseudonym = ANY(%s)", [holding]
                )
            )
        return [who for who in holding if who not in keyed]

    def _purge_keyless(self, who: str) -> int:
        """Under the person's lock, if they still have no key, delete their unreadable rows."""
        with self._locked(who) as conn:
            if self._data_key(who) is not None:  # a key was made (and committed) since
                return 0
            row = conn.execute(
                "SELECT count(*) FROM reflections WHERE pseudonym = %s", [who]
            ).fetchone()
            conn.execute("DELETE FROM reflections WHERE pseudonym = %s", [who])
            conn.execute("DELETE FROM sessions WHERE pseudonym = %s", [who])
        return int(row[0]) if row else 0

    def _people_with_old_keys(self, cutoff: dt.datetime) -> list[str]:
        # Only keys older than the cutoff: a key just made is about to be used.
        with self._db.keys() as keys:
            old = _column(keys, "SELECT pseudonym FROM data_keys WHERE created_at < %s", [cutoff])
        if not old:
            return []
        with self._db.reading() as conn:
            holding = set(
                _column(
                    conn,
                    "SELECT pseudonym FROM reflections WHERE pseudonym = ANY(%s)"
                    " UNION SELECT pseudonym FROM sessions WHERE pseudonym = ANY(%s)",
                    [old, old],
                )
            )
        return [who for who in old if who not in holding]

    def _purge_unused_key(self, who: str, cutoff: dt.datetime) -> None:
        """Under the person's lock, if they still have nothing, destroy their key."""
        with self._locked(who) as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM reflections WHERE pseudonym = %s)"
                " OR EXISTS (SELECT 1 FROM sessions WHERE pseudonym = %s)",
                [who, who],
            ).fetchone()
            if row and row[0]:
                return
            with self._db.keys() as keys:
                keys.execute(
                    "DELETE FROM data_keys WHERE pseudonym = %s AND created_at < %s",
                    [who, cutoff],
                )

    def backup(self, path: Path) -> None:
        """Not done by Reflect on PostgreSQL: use the server's own tools, one dump each."""
        raise StoreError(
            "On PostgreSQL, back up with pg_dump: the data database and the keys database "
            "separately, kept apart (a dump of the data database is read with the live keys)."
        )

    # ------------------------------------------------------------------ operator access

    def record_access(self, person: Person, *, action: str, reason: str, at: dt.datetime) -> None:
        """Append to the access log that the server's operator did `action` to the person's
        data, on the day of `at`, for `reason` (sealed under the service key). The log can be
        neither changed nor erased, not even by `forget` (a trigger refuses)."""
        who = self.pseudonym(person)
        with self._db.writing() as conn:
            row = conn.execute("SELECT nextval('access_log_ids')").fetchone()
            assert row is not None
            row_id = int(row[0])
            sealed = self.keyring.seal(reason, aad=row_aad("access_log", str(row_id), who))
            conn.execute(
                "INSERT INTO access_log (id, pseudonym, action, reason, day)"
                " VALUES (%s, %s, %s, %s, %s)",
                [row_id, who, action, sealed, _midnight(at)],
            )

    def access_records(self, person: Person | None = None) -> list[AccessRecord]:
        """The access log, oldest first: the person's own records, or everyone's (for the
        operator's `reflect data access-log`, with pseudonyms, never identities)."""
        with self._db.reading() as conn:
            found = conn.execute(
                "SELECT id, pseudonym, action, reason, day FROM access_log"
                " WHERE %s::text IS NULL OR pseudonym = %s ORDER BY id",
                [None, None]
                if person is None
                else [self.pseudonym(person), self.pseudonym(person)],
            ).fetchall()
        records = []
        for row_id, who, action, sealed, day in found:
            try:
                reason = self.keyring.unseal(sealed, aad=row_aad("access_log", str(row_id), who))
            except UnreadableError:
                reason = "?"
            records.append(AccessRecord(pseudonym=who, action=action, reason=reason, day=_utc(day)))
        return records

    def _seal_clear_rows(self) -> None:
        """Seal what the first release of this store kept in clear: choice and scale answers,
        and every event. Each person's rows under their lock;
        rows of people whose key is gone are deleted (never to be read, nor kept in clear)."""
        with self._db.reading() as conn:
            people = {
                row[0]
                for row in conn.execute(
                    "SELECT r.pseudonym FROM answers a JOIN reflections r ON r.id = a.reflection_id"
                    " WHERE a.value IS NOT NULL UNION SELECT pseudonym FROM events"
                    " WHERE sealed IS NULL",
                ).fetchall()
            }
        for who in sorted(people):
            with self._locked(who) as conn:
                key = self._data_key(who)
                answers = conn.execute(
                    "SELECT a.reflection_id, a.step_id, a.value FROM answers a"
                    " JOIN reflections r ON r.id = a.reflection_id"
                    " WHERE r.pseudonym = %s AND a.value IS NOT NULL",
                    [who],
                ).fetchall()
                for rid, step, value in answers:
                    if key is None:
                        conn.execute(
                            "DELETE FROM answers WHERE reflection_id = %s AND step_id = %s",
                            [rid, step],
                        )
                        continue
                    sealed = seal(
                        key, value.encode("utf-8"), aad=row_aad("answers", rid, step, who)
                    )
                    conn.execute(
                        "UPDATE answers SET value = NULL, sealed = %s"
                        " WHERE reflection_id = %s AND step_id = %s",
                        [sealed, rid, step],
                    )
                events = conn.execute(
                    "SELECT id, event, flow_id, at FROM events"
                    " WHERE pseudonym = %s AND sealed IS NULL",
                    [who],
                ).fetchall()
                for row_id, event, flow_id, at in events:
                    if key is None:
                        conn.execute("DELETE FROM events WHERE id = %s", [row_id])
                        continue
                    moment = rows.moment(at)
                    sealed = rows.sealed_event(key, who, str(row_id), event, flow_id, at=moment)
                    conn.execute(
                        "UPDATE events SET event = %s, flow_id = NULL, sealed = %s WHERE id = %s",
                        [SEALED, sealed, row_id],
                    )

    # ------------------------------------------------------------------ keys

    def _data_key(self, who: str) -> bytes | None:
        return self._data_keys({who}).get(who)

    def _data_keys(self, people: set[str]) -> dict[str, bytes]:
        """The data keys of `people` who have one, in one query (through their
        organisation's key where they have one)."""
        if not people:
            return {}
        with self._db.keys() as keys:
            return data_keys(keys, self.keyring, sorted(people))

    def _keys_of(self, conn: Connection, people: set[str]) -> dict[str, bytes | None]:
        return dict(self._data_keys(people))

    @contextlib.contextmanager
    def _reading_as(self, who: str) -> Iterator[tuple[Connection, bytes | None]]:
        """A read-only transaction, with the person's data key (None if they have none)."""
        with self._db.reading() as conn:
            yield conn, self._data_key(who)

    def _change(self, who: str) -> AbstractContextManager[Connection]:
        return self._locked(who)

    @contextlib.contextmanager
    def _locked(self, who: str) -> Iterator[Connection]:
        """A writing transaction holding the person's lock (see the module's header)."""
        with self._db.writing() as conn:
            self._db.lock_person(conn, who)
            yield conn

    @contextlib.contextmanager
    def _writing_as(
        self, who: str, *, org: str | None = None
    ) -> Iterator[tuple[Connection, bytes]]:
        """A writing transaction holding the person's lock, with their data key. A person with
        no key yet gets one, committed in the keys database before any row uses it; the lock
        keeps erasure and retention from removing it meanwhile."""
        with self._locked(who) as conn:
            if org is not None:
                with self._db.keys() as keys:
                    key = data_key_under(keys, self.keyring, who, org=org, at=self._clock())
            else:
                key = self._data_key(who)
            if key is None:
                with self._db.keys() as keys:
                    add_data_key(keys, self.keyring, who, org=org, at=self._clock())
                key = self._data_key(who)
                if key is None:
                    raise StoreError("A data key could not be made; try again.")
            yield conn, key
