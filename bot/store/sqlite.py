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

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.engine.clock import utcnow
from bot.engine.people import Person
from bot.engine.reflections import Event, NextStep, Reflection, StoredReflection
from bot.engine.sessions import Session
from bot.store import access_log, rows, schema, upgrade
from bot.store import statements as sql
from bot.store.access_log import AccessRecord
from bot.store.database import KEYS, DatabaseFiles, create_private_file, keys_path_for
from bot.store.errors import KeysMissingError, StoreError, WrongSecretError
from bot.store.privacy import Keyring, new_data_key
from bot.store.rows import SEEN_EVENTS_FOR, SEEN_REQUESTS_FOR
from bot.store.stats import Activity
from bot.store.times import stamp
from bot.store.weekly import tables as weekly_tables

log = logging.getLogger(__name__)

SEALED = upgrade.SEALED
SQL = sql.SQLITE


class SqliteStore:
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
            state = sql.session_state(SQL, db, who=who)
            key = self._data_key(db, who)
        if state is None:
            return None
        session = rows.read_session(who, state, lambda: key)
        if session is None:
            self.drop_session(person)
        return session

    def save_session(self, person: Person, session: Session) -> None:
        who = self.pseudonym(person)
        with self._writing_as(who) as (db, key):
            state = rows.sealed_session(key, who, session)
            sql.save_session(
                SQL, db, who=who, flow_id=session.flow_id, state=state, at=self._clock()
            )

    def drop_session(self, person: Person) -> None:
        with self._files.writing() as db:
            sql.drop_session(SQL, db, who=self.pseudonym(person))

    # ------------------------------------------------------------------ reflections

    def finish(self, person: Person, reflection: Reflection) -> str:
        """Keep the reflection (redacted, sealed) and drop the session, in one transaction.
        Redaction, the costly part, is done before the transaction starts."""
        who = self.pseudonym(person)
        reflection_id = secrets.token_hex(8)
        kept = rows.redacted_reflection(reflection)
        with self._writing_as(who) as (db, key):
            sql.keep_reflection(
                SQL,
                db,
                reflection=reflection,
                reflection_id=reflection_id,
                who=who,
                key=key,
                kept=kept,
            )
        return reflection_id

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        """The person's own reflections, newest first (as stored: redacted)."""
        who = self.pseudonym(person)
        with self._files.reading() as db:
            key = self._data_key(db, who)
            found, answers = sql.reflection_rows(SQL, db, who=who, limit=limit)
        return rows.stored_reflections(key, who, found, answers)

    def open_next_step(self, person: Person) -> NextStep | None:
        """The next step in the person's latest reflection that has one, unless settled."""
        who = self.pseudonym(person)
        with self._files.reading() as db:
            key = self._data_key(db, who)
            found = sql.next_step_rows(SQL, db, who=who)
        if found is None:
            return None
        row, written = found
        return rows.next_step(key, who, row, written)

    def follow_up_wanted(self, person: Person) -> bool:
        with self._files.reading() as db:
            return sql.follow_up_wanted(SQL, db, who=self.pseudonym(person))

    def want_follow_up(self, person: Person, wanted: bool) -> None:
        with self._files.writing() as db:
            sql.want_follow_up(SQL, db, who=self.pseudonym(person), wanted=wanted)

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
        with self._writing_as(who) as (db, key):
            sql.record_event(SQL, db, who=who, key=key, event=event, flow_id=flow_id, at=at)

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        """When the event last happened to the person, if it did: the moment for a safety
        event (kept inside its seal), the day (midnight UTC) for any other."""
        who = self.pseudonym(person)
        with self._files.reading() as db:
            key = self._data_key(db, who)
            mine = sql.events_of(SQL, db, key=key, who=who) if key is not None else []
        return next((e.at for e in mine if e.event == event), None)

    def claim_event(self, event_id: str, *, at: dt.datetime) -> bool:
        """True the first time a Slack event id is seen, False for a retry. Ids are kept as
        keyed digests for a day."""
        digest = self.keyring.digest(event_id, purpose="slack-event")
        return self._claim("seen_events", digest, at=at, kept_for=SEEN_EVENTS_FOR)

    def first_time(self, person: Person, notice: str) -> bool:
        """True the first time it is asked about this person and notice, then False: for
        things said once (the first-use agreement). Nothing else is kept with it."""
        who = self.pseudonym(person)
        if (who, notice) in self._noticed:
            return False
        with self._files.writing() as db:
            first = sql.first_time(SQL, db, who=who, notice=notice)
        if not first:  # a first showing is remembered only once it is committed (next time)
            self._noticed.add((who, notice))
        return first

    def claim_request(self, signature: str, *, at: dt.datetime) -> bool:
        """True the first time a signed Slack request (its signature, which covers the
        timestamp and the body) is seen, False for a replay. Kept as keyed digests for the
        signature window, in the database, so every process sharing it refuses the replay."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        return self._claim("seen_requests", digest, at=at, kept_for=SEEN_REQUESTS_FOR)

    def _claim(self, table: str, digest: str, *, at: dt.datetime, kept_for: dt.timedelta) -> bool:
        """Prune what has expired from `table`, then claim `digest` in it."""
        with self._files.writing() as db:
            db.execute(f"DELETE FROM {table} WHERE at < ?", [stamp(at - kept_for)])
            return sql.claim(SQL, db, table=table, digest=digest, at=at)

    def release_request(self, signature: str) -> None:
        """Forget a claimed request whose handling failed, so that it may be sent again."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        with self._files.writing() as db:
            sql.release(SQL, db, table="seen_requests", digest=digest)

    # ------------------------------------------------------------------ erasure and retention

    def forget(self, person: Person) -> int:
        """Erase everything about the person: their data key first (so every earlier copy of
        the database becomes unreadable for them), then their rows, then the WAL."""
        who = self.pseudonym(person)
        with self._files.writing() as db:
            db.execute(f"DELETE FROM {KEYS}.data_keys WHERE pseudonym = ?", [who])
        with self._files.writing() as db:
            gone = sql.erase_person(SQL, db, who=who)
            weekly_tables.erase(db, who)
            self._noticed = {pair for pair in self._noticed if pair[0] != who}
        self._files.checkpoint()
        log.info("erased a person's data: %d reflections", gone)
        return gone

    def purge(self, *, older_than: dt.datetime) -> int:
        """Delete reflections finished, events recorded and sessions left before `older_than`;
        rows whose data key is gone (left by an erasure, or in a restored backup), which can
        never be read again; and the data keys of people with nothing left, so that earlier
        backups lose them too. Returns how many reflections went."""
        cutoff = stamp(older_than)
        with self._files.writing() as db:
            aged = sql.purge_aged(SQL, db, older_than=older_than)
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
        return aged + int(unreadable)

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
        with self._files.reading() as db:
            return sql.people_who_reflected(SQL, db, flow_id=flow_id, since=since, until=until)

    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
        """What aggregates are made of, in [since, until): reflections, scale answers (read
        with each person's key) and supervisor suggestion events. Never free text, never
        choices, never crisis support, never firm suggestions (those are sealed). Scale answers
        are given the one way round whatever their scale: higher is heavier (an answer from a
        scale whose heavy end is its minimum is turned round)."""
        with self._files.reading() as db:
            reflections, scale_rows, event_rows = sql.activity_rows(
                SQL, db, since=since, until=until
            )
            people = {row[5] for row in scale_rows} | {row[3] for row in event_rows}
            keys = {who: self._data_key(db, who) for who in people}
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
        row = db.execute(
            f"SELECT wrapped FROM {KEYS}.data_keys WHERE pseudonym = ?", [who]
        ).fetchone()
        return self.keyring.unwrap(row[0], pseudonym=who) if row else None

    @contextlib.contextmanager
    def _writing_as(self, who: str) -> Iterator[tuple[sqlite_utils.Database, bytes]]:
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
                    db.execute(
                        f"INSERT INTO {KEYS}.data_keys (pseudonym, wrapped, created_at)"
                        " VALUES (?, ?, ?)",
                        [
                            who,
                            self.keyring.wrap(new_data_key(), pseudonym=who),
                            stamp(self._clock()),
                        ],
                    )
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
