"""`PostgresStore`: the engine's ReflectionStore on PostgreSQL, for several bot processes.

The same promises as bot.store.sqlite, with the same row logic (bot.store.rows):

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
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg

from bot.engine.people import Person
from bot.engine.reflections import Event, NextStep, Reflection, StoredReflection
from bot.engine.sessions import Session
from bot.store import pg_schema, rows
from bot.store.access_log import AccessRecord
from bot.store.errors import StoreError, UnreadableError
from bot.store.pg_database import Connection, PgDatabases, describe
from bot.store.pg_opening import (
    apply_migrations,
    check_before_migrating,
    check_separate,
    claim_or_check,
    pending_migrations,
)
from bot.store.pg_orgs import PgOrganisations, add_data_key, data_keys
from bot.store.privacy import Keyring, row_aad, seal
from bot.store.rows import NUDGE_ANSWERS, SEEN_EVENTS_FOR, SEEN_REQUESTS_FOR
from bot.store.rows import utc as _utc
from bot.store.stats import Activity, EventFact, ReflectionFact
from bot.store.times import parse, utcnow
from bot.store.upgrade import SEALED

log = logging.getLogger(__name__)


def _column(conn: Connection, sql: str, params: list[Any] | None = None) -> list[Any]:
    """The first column of what `sql` selects."""
    return [row[0] for row in conn.execute(sql, params).fetchall()]


def _midnight(at: dt.datetime) -> dt.datetime:
    """The day of `at` (UTC) as events keep it: midnight, never the time."""
    return parse(rows.day(at))


class PostgresStore(PgOrganisations):
    """Sessions, reflections and content-free events, per pseudonym, in PostgreSQL."""

    #: The weekly reminders' tables (bot.store.weekly) are not in PostgreSQL yet: the weekly
    #: reminders stay off on this store (bot.weekly.commands.for_store).
    keeps_weekly_tables = False

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

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

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

    # ------------------------------------------------------------------ identities

    def pseudonym(self, person: Person) -> str:
        return self.keyring.pseudonym(person.id)

    # ------------------------------------------------------------------ sessions

    def load_session(self, person: Person) -> Session | None:
        who = self.pseudonym(person)
        if self._db.in_writing:  # read to write: take the person's turn first
            with self._locked(who) as conn:
                row = conn.execute(
                    "SELECT state FROM sessions WHERE pseudonym = %s", [who]
                ).fetchone()
        else:
            with self._db.reading() as conn:
                row = conn.execute(
                    "SELECT state FROM sessions WHERE pseudonym = %s", [who]
                ).fetchone()
        if row is None:
            return None
        session = rows.read_session(who, row[0], lambda: self._data_key(who))
        if session is None:
            self.drop_session(person)
        return session

    def save_session(self, person: Person, session: Session) -> None:
        who = self.pseudonym(person)
        with self._writing_as(who, org=self._org(person)) as (conn, key):
            conn.execute(
                "INSERT INTO sessions (pseudonym, flow_id, state, updated_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (pseudonym) DO UPDATE SET"
                " flow_id = excluded.flow_id, state = excluded.state,"
                " updated_at = excluded.updated_at",
                [
                    who,
                    session.flow_id,
                    rows.sealed_session(key, who, session),
                    _utc(self._clock()),
                ],
            )

    def drop_session(self, person: Person) -> None:
        who = self.pseudonym(person)
        with self._locked(who) as conn:
            conn.execute("DELETE FROM sessions WHERE pseudonym = %s", [who])

    # ------------------------------------------------------------------ reflections

    def finish(self, person: Person, reflection: Reflection) -> str:
        """Keep the reflection (redacted, sealed) and drop the session, in one transaction."""
        who = self.pseudonym(person)
        reflection_id = secrets.token_hex(8)
        # Redaction, the costly part, before the transaction (and the person's lock) starts.
        kept = rows.redacted_reflection(reflection)
        written = kept.next_step
        with self._writing_as(who, org=self._org(person)) as (conn, key):
            conn.execute(
                "INSERT INTO reflections (id, pseudonym, flow_id, started_at, finished_at,"
                " summary, next_step, follow_up) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    reflection_id,
                    who,
                    reflection.flow_id,
                    _utc(reflection.started_at),
                    _utc(reflection.finished_at),
                    rows.sealed_summary(key, reflection_id, who, kept.summary),
                    written,
                    "open" if written else None,
                ],
            )
            if reflection.follow_up is not None:
                conn.execute(
                    "UPDATE reflections SET follow_up = %s WHERE id = %s AND pseudonym = %s"
                    " AND follow_up IS NOT NULL",
                    [reflection.follow_up.state, reflection.follow_up.reflection_id, who],
                )
            answer_rows = rows.answer_rows(key, reflection_id, who, kept)
            if answer_rows:
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO answers (reflection_id, step_id, position, kind, value,"
                        " sealed, scale) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        answer_rows,
                    )
            conn.execute("DELETE FROM sessions WHERE pseudonym = %s", [who])
        return reflection_id

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        """The person's own reflections, newest first (as stored: redacted)."""
        who = self.pseudonym(person)
        with self._db.reading() as conn:
            found = conn.execute(
                "SELECT id, flow_id, started_at, finished_at, summary FROM reflections"
                " WHERE pseudonym = %s ORDER BY finished_at DESC, seq DESC LIMIT %s",
                [who, limit],
            ).fetchall()
            answers: dict[str, list[tuple[Any, ...]]] = {row[0]: [] for row in found}
            if found:
                for reflection_id, *answer in conn.execute(
                    "SELECT reflection_id, step_id, kind, value, sealed, scale FROM answers"
                    " WHERE reflection_id = ANY(%s) ORDER BY reflection_id, position",
                    [list(answers)],
                ).fetchall():
                    answers[reflection_id].append(tuple(answer))
        if not found:
            return []
        return rows.stored_reflections(self._data_key(who), who, found, answers)

    def open_next_step(self, person: Person) -> NextStep | None:
        """The next step in the person's latest reflection that has one, unless settled."""
        who = self.pseudonym(person)
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT id, flow_id, finished_at, next_step, follow_up FROM reflections"
                " WHERE pseudonym = %s AND follow_up IS NOT NULL"
                " ORDER BY finished_at DESC, seq DESC LIMIT 1",
                [who],
            ).fetchone()
            if row is None or row[4] not in ("open", "carried"):
                return None
            written = conn.execute(
                "SELECT step_id, kind, value, sealed, scale FROM answers"
                " WHERE reflection_id = %s AND step_id = %s",
                [row[0], row[3]],
            ).fetchone()
        if written is None:
            return None
        return rows.next_step(self._data_key(who), who, row, written)

    def follow_up_wanted(self, person: Person) -> bool:
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT value FROM preferences WHERE pseudonym = %s AND name = 'follow_up'",
                [self.pseudonym(person)],
            ).fetchone()
        return row is None or row[0] != "off"

    def want_follow_up(self, person: Person, wanted: bool) -> None:
        who = self.pseudonym(person)
        with self._locked(who) as conn:
            conn.execute(
                "INSERT INTO preferences (pseudonym, name, value) VALUES (%s, 'follow_up', %s)"
                " ON CONFLICT (pseudonym, name) DO UPDATE SET value = excluded.value",
                [who, "on" if wanted else "off"],
            )

    def export(self, person: Person) -> list[StoredReflection]:
        """Everything kept for the person, newest first: for `reflect data export`."""
        return self.reflections(person, limit=None)

    # ------------------------------------------------------------------ events

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        """Note that something happened, with no content, on which day. Every event is sealed
        under the person's key: the database alone says only that something happened to a
        pseudonym on a day, never what (a safety event keeps its moment inside the seal). An
        answer to a supervisor suggestion is attributed to the flow whose end showed the
        person's last one, and kept once a day."""
        who = self.pseudonym(person)
        day = _midnight(at)
        with self._writing_as(who, org=self._org(person)) as (conn, key):
            if event in NUDGE_ANSWERS:
                mine = self._events_of(conn, key, who)
                flow_id, kept = rows.nudge_answer(event, flow_id, mine, day)
                if kept:
                    return
            row = conn.execute(
                "INSERT INTO events (pseudonym, event, flow_id, at)"
                " VALUES (%s, %s, NULL, %s) RETURNING id",
                [who, SEALED, day],
            ).fetchone()
            assert row is not None
            conn.execute(
                "UPDATE events SET sealed = %s WHERE id = %s",
                [rows.sealed_event(key, who, str(row[0]), event, flow_id, at=at), row[0]],
            )

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        """When the event last happened to the person, if it did: the moment for a safety
        event (kept inside its seal), the day (midnight UTC) for any other."""
        who = self.pseudonym(person)
        key = self._data_key(who)
        if key is None:
            return None
        with self._db.reading() as conn:
            mine = self._events_of(conn, key, who)
        return next((e.at for e in mine if e.event == event), None)

    def _events_of(self, conn: Connection, key: bytes, who: str) -> list[EventFact]:
        """The person's events, newest first, unsealed (rows that do not unseal are skipped)."""
        found = conn.execute(
            "SELECT id, at, sealed FROM events WHERE pseudonym = %s AND sealed IS NOT NULL"
            " ORDER BY at DESC, id DESC",
            [who],
        ).fetchall()
        return rows.events(key, who, found)

    def claim_event(self, event_id: str, *, at: dt.datetime) -> bool:
        """True the first time a Slack event id is seen (by any process), False for a retry.
        Ids are kept as keyed digests for a day."""
        digest = self.keyring.digest(event_id, purpose="slack-event")
        return self._claim("seen_events", digest, at=at, kept_for=SEEN_EVENTS_FOR)

    def claim_request(self, signature: str, *, at: dt.datetime) -> bool:
        """True the first time a signed Slack request is seen by any process sharing the
        database, False for a replay. Kept as keyed digests for the signature window."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        return self._claim("seen_requests", digest, at=at, kept_for=SEEN_REQUESTS_FOR)

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
            cursor = conn.execute(
                f"INSERT INTO {table} (digest, at) VALUES (%s, %s) ON CONFLICT (digest) DO NOTHING",
                [digest, _utc(at)],
            )
            return cursor.rowcount == 1

    def release_request(self, signature: str) -> None:
        """Forget a claimed request whose handling failed, so that it may be sent again."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        with self._db.writing() as conn:
            conn.execute("DELETE FROM seen_requests WHERE digest = %s", [digest])

    def first_time(self, person: Person, notice: str) -> bool:
        """True the first time it is asked about this person and notice (by any process),
        then False: for things said once (the first-use agreement)."""
        who = self.pseudonym(person)
        # The person's lock first, as every change about a person takes it: one order of
        # locks everywhere, so two requests can never wait on each other.
        with self._locked(who) as conn:
            cursor = conn.execute(
                "INSERT INTO notices (pseudonym, notice) VALUES (%s, %s)"
                " ON CONFLICT (pseudonym, notice) DO NOTHING",
                [who, notice],
            )
            return cursor.rowcount == 1

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
            row = conn.execute(
                "SELECT count(*) FROM reflections WHERE pseudonym = %s", [who]
            ).fetchone()
            for table in ("reflections", "sessions", "events", "notices", "preferences"):
                conn.execute(f"DELETE FROM {table} WHERE pseudonym = %s", [who])
            for erase in pg_schema.ERASERS:
                erase(conn, who)
        return int(row[0]) if row else 0

    def purge(self, *, older_than: dt.datetime) -> int:
        """Delete reflections finished, events recorded and sessions left before `older_than`;
        rows whose data key is gone, which can never be read again; and the data keys of
        people with nothing left, so that earlier dumps lose them too. Returns how many
        reflections went."""
        cutoff = _utc(older_than)
        with self._db.writing() as conn:
            row = conn.execute(
                "SELECT count(*) FROM reflections WHERE finished_at < %s", [cutoff]
            ).fetchone()
            aged = int(row[0]) if row else 0
            conn.execute("DELETE FROM reflections WHERE finished_at < %s", [cutoff])
            conn.execute("DELETE FROM events WHERE at < %s", [cutoff])
            conn.execute("DELETE FROM sessions WHERE updated_at < %s", [cutoff])
            conn.execute("DELETE FROM seen_events WHERE at < %s", [cutoff])
            conn.execute("DELETE FROM seen_requests WHERE at < %s", [cutoff])
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

    # ------------------------------------------------------------------ aggregates

    def people_who_reflected(
        self, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
    ) -> set[str]:
        """Pseudonyms of people who finished `flow_id` (any flow if None) in [since, until)."""
        with self._db.reading() as conn:
            found = conn.execute(
                "SELECT DISTINCT pseudonym FROM reflections WHERE finished_at >= %s"
                " AND finished_at < %s AND (%s::text IS NULL OR flow_id = %s)",
                [_utc(since), _utc(until), flow_id, flow_id],
            ).fetchall()
        return {row[0] for row in found}

    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
        """What aggregates are made of, in [since, until): reflections, scale answers and
        nudge events. Never free text, never safety signposts, never firm nudges."""
        window = [_utc(since), _utc(until)]
        with self._db.reading() as conn:
            reflections = [
                ReflectionFact(pseudonym=who, flow_id=flow, finished_at=_utc(at), id=rid)
                for rid, who, flow, at in conn.execute(
                    "SELECT id, pseudonym, flow_id, finished_at FROM reflections"
                    " WHERE finished_at >= %s AND finished_at < %s",
                    window,
                ).fetchall()
            ]
            scale_rows = conn.execute(
                "SELECT a.reflection_id, a.step_id, a.value, a.sealed, a.scale, r.pseudonym"
                " FROM answers a JOIN reflections r ON r.id = a.reflection_id"
                " WHERE a.kind = 'scale' AND r.finished_at >= %s AND r.finished_at < %s",
                window,
            ).fetchall()
            event_rows = conn.execute(
                "SELECT id, at, sealed, pseudonym FROM events"
                " WHERE sealed IS NOT NULL AND at >= %s AND at < %s",
                window,
            ).fetchall()
        keys = self._data_keys({row[5] for row in scale_rows} | {row[3] for row in event_rows})
        scales, events = rows.activity_facts(scale_rows, event_rows, keys)
        return Activity(reflections=reflections, scales=scales, events=events)

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
            key = self._data_key(who)
            if key is None:
                with self._db.keys() as keys:
                    add_data_key(keys, self.keyring, who, org=org, at=self._clock())
                key = self._data_key(who)
                if key is None:
                    raise StoreError("A data key could not be made; try again.")
            yield conn, key
