"""`SqliteStore`: the engine's ReflectionStore on SQLite, private by construction.

- People are pseudonyms (bot.store.privacy.Keyring.pseudonym); no transport id, team id or name
  is written anywhere.
- Every answer is sealed with AES-GCM under the person's own data key, with the row's identity
  as associated data: free text (and summaries) redacted first (bot.store.redaction), choices
  and scale numbers as they are. Aggregates read scale numbers through the keys. Session state,
  which holds answers in progress, is sealed too and deleted on finish or stop.
- Events keep a date, never a time, and what happened is sealed under the person's key, so the
  file alone cannot say who was shown crisis support or a firm suggestion, or clicked what.
  The safety events' moment, which the conversation needs, is kept inside the seal.
- What the server's operator does to one person's data is written to an append-only access
  log (with the reason, sealed), which the person sees on their Home tab.
- Data keys are random, wrapped under the secret, and kept in a separate keys file. `forget`
  destroys the key first, then the rows, then checkpoints the WAL: the person's data is then
  unreadable in every earlier backup too (crypto-shredding), and everyone else's still reads.

Each data key is written in its own transaction before any row that uses it, so that a crash
between the two files can at worst leave an unused key, never rows without their key; and it
is read inside the writing transaction that uses it, so no purge or erasure can slip between.
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

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.engine.clock import utcnow
from bot.engine.people import Person
from bot.engine.reflections import Event, NextStep, Reflection, StoredReflection
from bot.engine.sessions import Session
from bot.store import access_log, orgs, rows, schema, upgrade
from bot.store.access_log import AccessRecord
from bot.store.database import KEYS, DatabaseFiles, create_private_file, keys_path_for
from bot.store.errors import KeysMissingError, StoreError, WrongSecretError
from bot.store.privacy import Keyring
from bot.store.rows import NUDGE_ANSWERS, SEEN_EVENTS_FOR, SEEN_REQUESTS_FOR
from bot.store.stats import Activity, EventFact, ReflectionFact
from bot.store.times import parse, stamp
from bot.store.weekly import tables as weekly_tables

log = logging.getLogger(__name__)

SEALED = upgrade.SEALED


class SqliteStore(orgs.SqliteOrganisations):
    """Sessions, reflections and content-free events, per pseudonym, in one SQLite database."""

    def __init__(
        self,
        files: DatabaseFiles,
        keyring: Keyring,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._files = files
        self.keyring = keyring
        self._clock = clock
        #: Where a secret key was just created by `open_store`, if it was (to tell the user).
        self.created_secret: Path | None = None
        #: (pseudonym, notice) pairs known to be shown, so most requests skip the write.
        self._noticed: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        secret: bytes,
        keys_path: Path | None = None,
        migrations: Iterable[Migrations] = (),
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> SqliteStore:
        """Open (creating if need be) the database at `path`, upgrade its schema, and check
        that `secret` is the one it was created with (`WrongSecretError` if not).

        `keys_path` defaults to `reflect-keys.db` beside `reflect.db`. To read a backup, open
        it with the live keys file: people erased since the backup stay unreadable."""
        keys_path = keys_path or keys_path_for(path)
        keyring = Keyring(secret)
        create_private_file(path)
        files = DatabaseFiles(path, keys_path=keys_path)
        try:
            _check_before_attaching(files, keyring)
            create_private_file(keys_path)
            with files.writing() as db:
                schema.migrate(db, extra=migrations)
                schema.ensure_keys_schema(db, schema=KEYS)
                _claim_or_check(db, keyring, path=path, keys_path=keys_path)
            store = cls(files, keyring, clock=clock)
            store._seal_clear_rows()
        except BaseException:
            files.close()
            raise
        return store

    def migrate(self, migrations: Migrations) -> None:
        """Apply another module's migration set to this open database."""
        with self._files.writing() as db:
            migrations.apply(db)

    def close(self) -> None:
        self._files.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._files.path

    @property
    def keys_path(self) -> Path:
        return self._files.keys_path

    def reading(self) -> AbstractContextManager[sqlite_utils.Database]:
        """A read transaction on this database, for modules keeping their own tables here."""
        return self._files.reading()

    def writing(self) -> AbstractContextManager[sqlite_utils.Database]:
        """A BEGIN IMMEDIATE transaction on this database, for modules keeping their own
        tables here (committed on leaving, rolled back on an exception)."""
        return self._files.writing()

    # ------------------------------------------------------------------ identities

    def pseudonym(self, person: Person) -> str:
        return self.keyring.pseudonym(person.id)

    # ------------------------------------------------------------------ sessions

    def load_session(self, person: Person) -> Session | None:
        who = self.pseudonym(person)
        with self._files.reading() as db:
            row = db.execute("SELECT state FROM sessions WHERE pseudonym = ?", [who]).fetchone()
            key = self._data_key(db, who)
        if row is None:
            return None
        session = rows.read_session(who, row[0], lambda: key)
        if session is None:
            self.drop_session(person)
        return session

    def save_session(self, person: Person, session: Session) -> None:
        who = self.pseudonym(person)
        with self._writing_as(who, org=self._org(person)) as (db, key):
            state = rows.sealed_session(key, who, session)
            db.execute(
                "INSERT INTO sessions (pseudonym, flow_id, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (pseudonym) DO UPDATE SET flow_id = excluded.flow_id,"
                " state = excluded.state, updated_at = excluded.updated_at",
                [who, session.flow_id, state, stamp(self._clock())],
            )

    def drop_session(self, person: Person) -> None:
        with self._files.writing() as db:
            db.execute("DELETE FROM sessions WHERE pseudonym = ?", [self.pseudonym(person)])

    # ------------------------------------------------------------------ reflections

    def finish(self, person: Person, reflection: Reflection) -> str:
        """Keep the reflection (redacted, sealed) and drop the session, in one transaction.
        Redaction, the costly part, is done before the transaction starts."""
        who = self.pseudonym(person)
        reflection_id = secrets.token_hex(8)
        kept = rows.redacted_reflection(reflection)
        written = kept.next_step
        with self._writing_as(who, org=self._org(person)) as (db, key):
            db.execute(
                "INSERT INTO reflections (id, pseudonym, flow_id, started_at, finished_at,"
                " summary, next_step, follow_up) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    reflection_id,
                    who,
                    reflection.flow_id,
                    stamp(reflection.started_at),
                    stamp(reflection.finished_at),
                    rows.sealed_summary(key, reflection_id, who, kept.summary),
                    written,
                    "open" if written else None,
                ],
            )
            if reflection.follow_up is not None:
                db.execute(
                    "UPDATE reflections SET follow_up = ? WHERE id = ? AND pseudonym = ?"
                    " AND follow_up IS NOT NULL",
                    [reflection.follow_up.state, reflection.follow_up.reflection_id, who],
                )
            db.conn.executemany(
                "INSERT INTO answers (reflection_id, step_id, position, kind, value, sealed,"
                " scale) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.answer_rows(key, reflection_id, who, kept),
            )
            db.execute("DELETE FROM sessions WHERE pseudonym = ?", [who])
        return reflection_id

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        """The person's own reflections, newest first (as stored: redacted)."""
        who = self.pseudonym(person)
        with self._files.reading() as db:
            key = self._data_key(db, who)
            found = db.execute(
                "SELECT id, flow_id, started_at, finished_at, summary FROM reflections"
                " WHERE pseudonym = ? ORDER BY finished_at DESC, rowid DESC LIMIT ?",
                [who, -1 if limit is None else limit],
            ).fetchall()
            answers: dict[str, list[tuple[Any, ...]]] = {}
            for reflection_id, *_ in found:
                answers[reflection_id] = db.execute(
                    "SELECT step_id, kind, value, sealed, scale FROM answers"
                    " WHERE reflection_id = ? ORDER BY position",
                    [reflection_id],
                ).fetchall()
        return rows.stored_reflections(key, who, found, answers)

    def open_next_step(self, person: Person) -> NextStep | None:
        """The next step in the person's latest reflection that has one, unless settled."""
        who = self.pseudonym(person)
        with self._files.reading() as db:
            key = self._data_key(db, who)
            row = db.execute(
                "SELECT id, flow_id, finished_at, next_step, follow_up FROM reflections"
                " WHERE pseudonym = ? AND follow_up IS NOT NULL"
                " ORDER BY finished_at DESC, rowid DESC LIMIT 1",
                [who],
            ).fetchone()
            if row is None or key is None or row[4] not in ("open", "carried"):
                return None
            written = db.execute(
                "SELECT step_id, kind, value, sealed, scale FROM answers"
                " WHERE reflection_id = ? AND step_id = ?",
                [row[0], row[3]],
            ).fetchone()
        return rows.next_step(key, who, row, written)

    def follow_up_wanted(self, person: Person) -> bool:
        with self._files.reading() as db:
            row = db.execute(
                "SELECT value FROM preferences WHERE pseudonym = ? AND name = 'follow_up'",
                [self.pseudonym(person)],
            ).fetchone()
        return row is None or row[0] != "off"

    def want_follow_up(self, person: Person, wanted: bool) -> None:
        with self._files.writing() as db:
            db.execute(
                "INSERT INTO preferences (pseudonym, name, value) VALUES (?, 'follow_up', ?)"
                " ON CONFLICT (pseudonym, name) DO UPDATE SET value = excluded.value",
                [self.pseudonym(person), "on" if wanted else "off"],
            )

    def export(self, person: Person) -> list[StoredReflection]:
        """Everything kept for the person, newest first: for `reflect data export`."""
        return self.reflections(person, limit=None)

    # ------------------------------------------------------------------ events

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        """Note that something happened, with no content and on which day (never the time).
        Every event is sealed under the person's key: the file alone says only that something
        happened to a pseudonym on a day, never what (crisis support, a firm suggestion, a
        click). An answer to a supervisor suggestion is attributed to the flow whose end showed
        the person's last one, and kept once a day."""
        who = self.pseudonym(person)
        day = rows.day(at)
        with self._writing_as(who, org=self._org(person)) as (db, key):
            if event in NUDGE_ANSWERS:
                mine = self._events_of(db, key, who)
                flow_id, kept = rows.nudge_answer(event, flow_id, mine, parse(day))
                if kept:
                    return
            cursor = db.execute(
                "INSERT INTO events (pseudonym, event, flow_id, at) VALUES (?, ?, NULL, ?)",
                [who, SEALED, day],
            )
            row_id = str(cursor.lastrowid)
            db.execute(
                "UPDATE events SET sealed = ? WHERE id = ?",
                [rows.sealed_event(key, who, row_id, event, flow_id, at=at), row_id],
            )

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        """When the event last happened to the person, if it did: the moment for a safety
        event (kept inside its seal), the day (midnight UTC) for any other."""
        who = self.pseudonym(person)
        with self._files.reading() as db:
            key = self._data_key(db, who)
            mine = self._events_of(db, key, who) if key is not None else []
        return next((e.at for e in mine if e.event == event), None)

    def _events_of(self, db: sqlite_utils.Database, key: bytes, who: str) -> list[EventFact]:
        """The person's events, newest first, unsealed (rows that do not unseal are skipped)."""
        found = db.execute(
            "SELECT id, at, sealed FROM events WHERE pseudonym = ? AND sealed IS NOT NULL"
            " ORDER BY at DESC, id DESC",
            [who],
        ).fetchall()
        return rows.events(key, who, found)

    def claim_event(self, event_id: str, *, at: dt.datetime) -> bool:
        """True the first time a Slack event id is seen, False for a retry. Ids are kept as
        keyed digests for a day."""
        digest = self.keyring.digest(event_id, purpose="slack-event")
        with self._files.writing() as db:
            db.execute("DELETE FROM seen_events WHERE at < ?", [stamp(at - SEEN_EVENTS_FOR)])
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen_events (digest, at) VALUES (?, ?)", [digest, stamp(at)]
            )
            return cursor.rowcount == 1

    def first_time(self, person: Person, notice: str) -> bool:
        """True the first time it is asked about this person and notice, then False: for
        things said once (the first-use agreement). Nothing else is kept with it."""
        who = self.pseudonym(person)
        if (who, notice) in self._noticed:
            return False
        with self._files.writing() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO notices (pseudonym, notice) VALUES (?, ?)", [who, notice]
            )
            first = cursor.rowcount == 1
        if not first:  # a first showing is remembered only once it is committed (next time)
            self._noticed.add((who, notice))
        return first

    def claim_request(self, signature: str, *, at: dt.datetime) -> bool:
        """True the first time a signed Slack request (its signature, which covers the
        timestamp and the body) is seen, False for a replay. Kept as keyed digests for the
        signature window, in the database, so every process sharing it refuses the replay."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        with self._files.writing() as db:
            db.execute("DELETE FROM seen_requests WHERE at < ?", [stamp(at - SEEN_REQUESTS_FOR)])
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen_requests (digest, at) VALUES (?, ?)",
                [digest, stamp(at)],
            )
            return cursor.rowcount == 1

    def release_request(self, signature: str) -> None:
        """Forget a claimed request whose handling failed, so that it may be sent again."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        with self._files.writing() as db:
            db.execute("DELETE FROM seen_requests WHERE digest = ?", [digest])

    # ------------------------------------------------------------------ erasure and retention

    def forget(self, person: Person) -> int:
        """Erase everything about the person: their data key first (so every earlier copy of
        the database becomes unreadable for them), then their rows, then the WAL."""
        who = self.pseudonym(person)
        with self._files.writing() as db:
            db.execute(f"DELETE FROM {KEYS}.data_keys WHERE pseudonym = ?", [who])
        with self._files.writing() as db:
            gone = self._delete_rows(db, who)
        self._files.checkpoint()
        log.info("erased a person's data: %d reflections", gone)
        return gone

    def _checkpoint(self) -> None:
        self._files.checkpoint()

    def _delete_rows(self, db: sqlite_utils.Database, who: str) -> int:
        """Delete every row of the person's (their key is already gone); returns how many
        reflections went."""
        (gone,) = db.execute(
            "SELECT count(*) FROM reflections WHERE pseudonym = ?", [who]
        ).fetchone()
        db.execute("DELETE FROM reflections WHERE pseudonym = ?", [who])
        db.execute("DELETE FROM sessions WHERE pseudonym = ?", [who])
        db.execute("DELETE FROM events WHERE pseudonym = ?", [who])
        db.execute("DELETE FROM notices WHERE pseudonym = ?", [who])
        db.execute("DELETE FROM preferences WHERE pseudonym = ?", [who])
        weekly_tables.erase(db, who)
        self._noticed = {pair for pair in self._noticed if pair[0] != who}
        return int(gone)

    def purge(self, *, older_than: dt.datetime) -> int:
        """Delete reflections finished, events recorded and sessions left before `older_than`;
        rows whose data key is gone (left by an erasure, or in a restored backup), which can
        never be read again; and the data keys of people with nothing left, so that earlier
        backups lose them too. Returns how many reflections went."""
        cutoff = stamp(older_than)
        with self._files.writing() as db:
            (aged,) = db.execute(
                "SELECT count(*) FROM reflections WHERE finished_at < ?", [cutoff]
            ).fetchone()
            db.execute("DELETE FROM reflections WHERE finished_at < ?", [cutoff])
            db.execute("DELETE FROM events WHERE at < ?", [cutoff])
            db.execute("DELETE FROM sessions WHERE updated_at < ?", [cutoff])
            db.execute("DELETE FROM seen_events WHERE at < ?", [cutoff])
        keyless = f"pseudonym NOT IN (SELECT pseudonym FROM {KEYS}.data_keys)"
        with self._files.writing() as db:
            (unreadable,) = db.execute(
                f"SELECT count(*) FROM reflections WHERE {keyless}"
            ).fetchone()
            db.execute(f"DELETE FROM reflections WHERE {keyless}")
            db.execute(f"DELETE FROM sessions WHERE {keyless}")
            # Only keys older than the cutoff: a key just made is about to be used.
            db.execute(
                f"DELETE FROM {KEYS}.data_keys WHERE created_at < ?"
                " AND pseudonym NOT IN (SELECT pseudonym FROM reflections)"
                " AND pseudonym NOT IN (SELECT pseudonym FROM sessions)",
                [cutoff],
            )
        self._files.checkpoint()
        log.info("retention purge: %d reflections aged out, %d unreadable", aged, unreadable)
        return int(aged) + int(unreadable)

    def backup(self, path: Path) -> None:
        """A consistent copy of the database (online backup), safe while the bot runs.

        The data keys are not copied: a backup is read with the live keys file, so a person
        erased after the backup stays erased in it."""
        if path.exists() and path.stat().st_size > 0:
            raise StoreError(f"{path} already exists; choose a new file for the backup.")
        if path.resolve() in (self.path.resolve(), self.keys_path.resolve()):
            raise StoreError("The backup must go to a new file, not over the live database.")
        self._files.backup(path)

    # ------------------------------------------------------------------ aggregates

    def people_who_reflected(
        self, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
    ) -> set[str]:
        """Pseudonyms of people who finished `flow_id` (any flow if None) in [since, until)."""
        sql = (
            "SELECT DISTINCT pseudonym FROM reflections WHERE finished_at >= ? AND finished_at < ?"
        )
        params: list[str] = [stamp(since), stamp(until)]
        if flow_id is not None:
            sql += " AND flow_id = ?"
            params.append(flow_id)
        with self._files.reading() as db:
            return {row[0] for row in db.execute(sql, params).fetchall()}

    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
        """What aggregates are made of, in [since, until): reflections, scale answers (read
        with each person's key) and supervisor suggestion events. Never free text, never
        choices, never crisis support, never firm suggestions (those are sealed). Scale answers
        are given the one way round whatever their scale: higher is heavier (an answer from a
        scale whose heavy end is its minimum is turned round)."""
        window = [stamp(since), stamp(until)]
        with self._files.reading() as db:
            reflections = [
                ReflectionFact(pseudonym=who, flow_id=flow, finished_at=parse(at), id=rid)
                for rid, who, flow, at in db.execute(
                    "SELECT id, pseudonym, flow_id, finished_at FROM reflections"
                    " WHERE finished_at >= ? AND finished_at < ?",
                    window,
                ).fetchall()
            ]
            scale_rows = db.execute(
                "SELECT a.reflection_id, a.step_id, a.value, a.sealed, a.scale,"
                " r.pseudonym FROM answers a"
                " JOIN reflections r ON r.id = a.reflection_id"
                " WHERE a.kind = 'scale' AND r.finished_at >= ? AND r.finished_at < ?",
                window,
            ).fetchall()
            keys = {who: self._data_key(db, who) for *_, who in scale_rows}
            event_rows = db.execute(
                "SELECT id, at, sealed, pseudonym FROM events"
                " WHERE sealed IS NOT NULL AND at >= ? AND at < ?",
                window,
            ).fetchall()
            keys |= {who: self._data_key(db, who) for *_, who in event_rows if who not in keys}
        scales, events = rows.activity_facts(scale_rows, event_rows, keys)
        return Activity(reflections=reflections, scales=scales, events=events)

    # ------------------------------------------------------------------ operator access

    def record_access(self, person: Person, *, action: str, reason: str, at: dt.datetime) -> None:
        """Append to the access log that the server's operator did `action` to the person's
        data, on the day of `at`, for `reason` (see bot.store.access_log). `forget` keeps it."""
        with self._files.writing() as db:
            access_log.append(
                db,
                self.keyring,
                who=self.pseudonym(person),
                action=action,
                reason=reason,
                day=rows.day(at),
            )

    def access_records(self, person: Person | None = None) -> list[AccessRecord]:
        """The access log, oldest first: the person's own records, or everyone's (for the
        operator's `reflect data access-log`, with pseudonyms, never identities)."""
        who = self.pseudonym(person) if person is not None else None
        with self._files.reading() as db:
            return access_log.read(db, self.keyring, who=who)

    def _seal_clear_rows(self) -> None:
        """Seal what older versions kept in clear (bot.store.upgrade)."""
        with self._files.writing() as db:
            changed = upgrade.seal_clear_rows(db, key_of=lambda who: self._data_key(db, who))
            changed += upgrade.key_weekly_channels(db, keyring=self.keyring)
        if changed:
            self._files.checkpoint()

    # ------------------------------------------------------------------ keys

    def _data_key(self, db: sqlite_utils.Database, who: str) -> bytes | None:
        return orgs.data_key(db, self.keyring, who)

    @contextlib.contextmanager
    def _writing_as(
        self, who: str, *, org: str | None = None
    ) -> Iterator[tuple[sqlite_utils.Database, bytes]]:
        """A writing transaction with the person's data key, read inside it (so that no purge
        or erasure can remove the key between reading it and using it). A person with no key
        yet gets one first, in a transaction of its own: a key is always committed before
        any row that needs it."""
        for _attempt in range(3):
            with self._files.writing() as db:
                key = self._data_key(db, who)
                if key is not None:
                    yield db, key
                    return
            with self._files.writing() as db:
                if self._data_key(db, who) is None:
                    orgs.add_data_key(db, self.keyring, who, org=org, at=self._clock())
        raise StoreError("A data key could not be made; try again.")


def _check_before_attaching(files: DatabaseFiles, keyring: Keyring) -> None:
    """Catch the wrong secret, or a missing keys file, before anything is created or changed."""
    db = files.connect_main()
    if "meta" not in db.table_names():
        return
    found = dict(db.execute("SELECT key, value FROM meta").fetchall())
    if "secret_check" not in found:
        return
    if found["secret_check"] != keyring.check_value():
        raise _wrong_secret(files.path)
    try:
        has_keys = files.keys_path.stat().st_size > 0
    except OSError:
        has_keys = False
    if not has_keys:
        raise KeysMissingError(
            f"The data keys file {files.keys_path} is missing, so the reflections in "
            f"{files.path} cannot be read. Restore it from where it was (it is not part of "
            "database backups), or move the database away to start afresh."
        )


def _claim_or_check(
    db: sqlite_utils.Database, keyring: Keyring, *, path: Path, keys_path: Path
) -> None:
    """Inside the opening transaction: mark a new database and keys file as ours, or check
    that they were made with this secret and belong together."""
    check = keyring.check_value()
    main = dict(db.execute("SELECT key, value FROM meta").fetchall())
    keys = dict(db.execute(f"SELECT key, value FROM {KEYS}.meta").fetchall())
    for found, where in ((main, path), (keys, keys_path)):
        if found.get("secret_check", check) != check:
            raise _wrong_secret(where)
    store_id = main.get("store_id") or keys.get("store_id") or secrets.token_hex(16)
    if keys.get("store_id", store_id) != store_id:
        raise KeysMissingError(
            f"The data keys file {keys_path} belongs to another database than {path}. Use the "
            "keys file that was made with this database (REFLECT_DB decides where both live)."
        )
    for table in ("meta", f"{KEYS}.meta"):
        db.execute(
            f"INSERT OR IGNORE INTO {table} (key, value) VALUES ('store_id', ?),"
            " ('secret_check', ?)",
            [store_id, check],
        )


def _wrong_secret(path: Path) -> WrongSecretError:
    return WrongSecretError(
        f"The secret key does not match the one {path} was made with. Set REFLECT_SECRET_KEY "
        "(or restore secret.key in the data folder) to the original secret; with another secret "
        "the reflections cannot be read."
    )
