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

What both stores do alike is written once: bot.store.base (the methods), bot.store.statements
(the SQL, with each database's dialect) and bot.store.rows (sealing and reading rows).

Each data key is written in its own transaction before any row that uses it, so that a crash
between the two files can at worst leave an unused key, never rows without their key; and it
is read inside the writing transaction that uses it, so no purge or erasure can slip between.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.engine.clock import utcnow
from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store import access_log, orgs, rows, schema, upgrade
from bot.store import statements as sql
from bot.store.access_log import AccessRecord
from bot.store.base import RowStore
from bot.store.database import KEYS, DatabaseFiles, create_private_file, keys_path_for
from bot.store.errors import KeysMissingError, StoreError, WrongSecretError
from bot.store.privacy import Keyring
from bot.store.times import stamp
from bot.store.weekly import tables as weekly_tables

log = logging.getLogger(__name__)

SEALED = upgrade.SEALED


class SqliteStore(RowStore, orgs.SqliteOrganisations):
    """Sessions, reflections and content-free events, per pseudonym, in one SQLite database
    (what both stores do alike: bot.store.base.RowStore)."""

    SQL = sql.SQLITE

    #: The weekly reminders' tables (bot.store.weekly) are here too, in this dialect.
    keeps_weekly_tables = True
    sql_dialect = "sqlite"

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

    @property
    def path(self) -> Path:
        return self._files.path

    @property
    def keys_path(self) -> Path:
        return self._files.keys_path

    def ping(self) -> None:
        """Check that the database and its keys file can be read (for /healthz); StoreError
        if not."""
        try:
            with self._files.reading() as db:
                db.execute(f"SELECT count(*) FROM {KEYS}.meta").fetchone()
        except sqlite3.Error as error:
            raise StoreError(f"The database cannot be read: {error}.") from error

    def reading(self) -> AbstractContextManager[sqlite_utils.Database]:
        """A read transaction on this database, for modules keeping their own tables here."""
        return self._files.reading()

    def writing(self) -> AbstractContextManager[sqlite_utils.Database]:
        """A BEGIN IMMEDIATE transaction on this database, for modules keeping their own
        tables here (committed on leaving, rolled back on an exception)."""
        return self._files.writing()

    def data_key(
        self, who: str, *, create: bool = False, person: Person | None = None
    ) -> bytes | None:
        """For modules keeping sealed rows here (bot.store.outbox): the person's data key; with
        `create`, made if need be (inside the current writing transaction, if there is one)."""
        if not create:
            with self._files.reading() as db:
                return self._data_key(db, who)
        org = self._org(person) if person is not None else None  # under their organisation
        with self._writing_as(who, org=org) as (_, key):
            return key

    # ------------------------------------------------------------------ sessions

    def load_session(self, person: Person) -> Session | None:
        who = self.pseudonym(person)
        with self._files.reading() as db:
            state = sql.session_state(self.SQL, db, who=who)
            key = self._data_key(db, who)
        if state is None:
            return None
        session = rows.read_session(who, state, lambda: key)
        if session is None:
            self.drop_session(person)
        return session

    # ------------------------------------------------------------------ notices and Slack ids

    def first_time(self, person: Person, notice: str) -> bool:
        """True the first time it is asked about this person and notice, then False: for
        things said once (the first-use agreement). Nothing else is kept with it."""
        who = self.pseudonym(person)
        if (who, notice) in self._noticed:
            return False
        with self._files.writing() as db:
            first = sql.first_time(self.SQL, db, who=who, notice=notice)
        if not first:  # a first showing is remembered only once it is committed (next time)
            self._noticed.add((who, notice))
        return first

    def _claim(self, table: str, digest: str, *, at: dt.datetime, kept_for: dt.timedelta) -> bool:
        """Prune what has expired from `table`, then claim `digest` in it."""
        with self._files.writing() as db:
            db.execute(f"DELETE FROM {table} WHERE at < ?", [stamp(at - kept_for)])
            return sql.claim(self.SQL, db, table=table, digest=digest, at=at)

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

    def _delete_rows(self, db: sqlite_utils.Database, who: str) -> int:
        """Delete every row of the person's (their key is already gone); returns how many
        reflections went."""
        gone = sql.erase_person(self.SQL, db, who=who)
        weekly_tables.erase(db, who)
        self._noticed = {pair for pair in self._noticed if pair[0] != who}
        return gone

    def _checkpoint(self) -> None:
        self._files.checkpoint()

    def purge(self, *, older_than: dt.datetime) -> int:
        """Delete reflections finished, events recorded and sessions left before `older_than`;
        rows whose data key is gone (left by an erasure, or in a restored backup), which can
        never be read again; and the data keys of people with nothing left, so that earlier
        backups lose them too. Returns how many reflections went."""
        cutoff = stamp(older_than)
        with self._files.writing() as db:
            aged = sql.purge_aged(self.SQL, db, older_than=older_than)
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

    def _change(self, who: str) -> AbstractContextManager[sqlite_utils.Database]:
        return self._files.writing()  # one writer at a time: BEGIN IMMEDIATE

    @contextlib.contextmanager
    def _reading_as(self, who: str) -> Iterator[tuple[sqlite_utils.Database, bytes | None]]:
        """A read transaction, with the person's data key (None if they have none)."""
        with self._files.reading() as db:
            yield db, self._data_key(db, who)

    def _keys_of(self, conn: sqlite_utils.Database, people: set[str]) -> dict[str, bytes | None]:
        return {who: self._data_key(conn, who) for who in people}

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
                key = (
                    orgs.data_key_under(db, self.keyring, who, org=org, at=self._clock())
                    if org is not None
                    else self._data_key(db, who)
                )
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
