"""The SQLite files behind the store, and how to read and write them safely.

Two files: the database (`reflect.db`: pseudonyms, sealed text, scale and option values, dates)
and beside it the data keys (`reflect-keys.db`: each person's data key, wrapped under the
secret). They are kept apart so that erasing a person's key also defeats every earlier backup of
the database: `backup` copies the database only. Both are attached to one connection per thread.

Settings, on every connection: WAL (readers never block the writer), synchronous=FULL (a
committed answer survives a power cut), foreign keys on, secure_delete (erased rows are
overwritten, not just unlinked), and a busy timeout of 2 s, well inside Slack's 3 s budget.
Writing transactions start with BEGIN IMMEDIATE, so two writers never deadlock upgrading a read
lock, and writers in one process queue on a lock rather than spinning in SQLite's busy handler.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from bot.store.errors import StoreError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 2000
#: How long a writer keeps trying to start its transaction when other processes hold the lock.
WRITE_PATIENCE_SECONDS = 10.0
KEYS = "keys"


def keys_path_for(path: Path) -> Path:
    """Where the data keys of the database at `path` live: `reflect.db` -> `reflect-keys.db`."""
    return path.with_name(f"{path.stem}-keys{path.suffix or '.db'}")


def create_private_file(path: Path) -> None:
    """Create `path` (and its folder) readable by this user only, if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class _ThreadConnection:
    """One thread's connection. When the thread ends, its thread-local holder goes and the
    connection is closed (a finalizer), so a bot whose threads come and go leaks nothing."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.attached = False
        self.writing = False


class DatabaseFiles:
    """Connections to the database with its keys file attached, one per thread."""

    def __init__(self, path: Path, *, keys_path: Path) -> None:
        self.path = path
        self.keys_path = keys_path
        self._local = threading.local()
        self._connections: dict[int, sqlite3.Connection] = {}
        self._registry_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False

    # ------------------------------------------------------------------ connections

    def _thread(self) -> _ThreadConnection:
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is not None:
            return held
        if self._closed:
            raise StoreError("The store has been closed.")
        try:
            conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=2.0
            )
        except sqlite3.Error as error:
            raise StoreError(f"Cannot open the database {self.path}: {error}.") from error
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _set_up(conn, "main")
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StoreError(
                f"{self.path} is not a Reflect database SQLite can read ({error}). "
                "Check REFLECT_DB, or restore it from a backup."
            ) from error
        held = _ThreadConnection(sqlite_utils.Database(conn, execute_plugins=False))
        with self._registry_lock:
            self._connections[id(held)] = conn
        weakref.finalize(held, self._forget_connection, id(held))
        self._local.held = held
        return held

    def _forget_connection(self, key: int) -> None:
        with self._registry_lock:
            conn = self._connections.pop(key, None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def connect_main(self) -> sqlite_utils.Database:
        """This thread's connection to the database alone (before the keys file is attached)."""
        return self._thread().db

    def connection(self) -> sqlite_utils.Database:
        """This thread's connection, with the keys file attached as schema `keys`."""
        held = self._thread()
        if not held.attached:
            try:
                held.db.conn.execute(f"ATTACH DATABASE ? AS {KEYS}", (str(self.keys_path),))
                _set_up(held.db.conn, KEYS)
            except sqlite3.DatabaseError as error:
                raise StoreError(
                    f"{self.keys_path} is not a Reflect keys file SQLite can read ({error})."
                ) from error
            held.attached = True
        return held.db

    @property
    def open_connections(self) -> int:
        with self._registry_lock:
            return len(self._connections)

    def close(self) -> None:
        self._closed = True
        with self._registry_lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite_utils.Database]:
        """A writing transaction (BEGIN IMMEDIATE), committed at the end or rolled back.
        Inside another writing transaction it is simply part of it."""
        db = self.connection()
        held = self._thread()
        if held.writing:
            yield db
            return
        if db.conn.in_transaction:
            raise RuntimeError("cannot start writing inside a read transaction")
        with self._write_lock:
            _begin_immediate(db.conn)
            held.writing = True
            try:
                yield db
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:  # an error may already have ended it
                    db.conn.execute("ROLLBACK")
                raise
            finally:
                held.writing = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        """A read transaction: one consistent snapshot across both files."""
        db = self.connection()
        if db.conn.in_transaction:
            yield db
            return
        db.conn.execute("BEGIN")
        try:
            yield db
        finally:
            db.conn.execute("COMMIT")

    # ------------------------------------------------------------------ maintenance

    def checkpoint(self) -> None:
        """Copy the WAL into the database files and truncate it, so erased rows leave no copy
        in a -wal file. Readers in other processes may delay it; it is retried once."""
        db = self.connection()
        for schema in ("main", KEYS):
            for _attempt in range(2):
                busy, _, _ = db.conn.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    break
                time.sleep(0.05)
            else:
                log.warning("WAL checkpoint was delayed by other readers; it will complete later")

    def backup(self, target: Path) -> None:
        """Copy the database (not the keys) with SQLite's online backup: a consistent snapshot,
        even while the bot writes."""
        create_private_file(target)
        source = self.connection()
        with contextlib.closing(sqlite3.connect(str(target))) as copy:
            source.conn.backup(copy, name="main")


def _set_up(conn: sqlite3.Connection, schema: str) -> None:
    conn.execute(f"PRAGMA {schema}.journal_mode = WAL")
    conn.execute(f"PRAGMA {schema}.synchronous = FULL")
    conn.execute(f"PRAGMA {schema}.secure_delete = ON")
    conn.execute("PRAGMA foreign_keys = ON")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    deadline = time.monotonic() + WRITE_PATIENCE_SECONDS
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            busy = "locked" in str(error) or "busy" in str(error)
            if not busy or time.monotonic() > deadline:
                raise StoreError(
                    "The database stayed busy for too long; another Reflect process may be "
                    "stuck. Try again, or stop the other process."
                ) from error
            log.info("database busy; waiting to write")
