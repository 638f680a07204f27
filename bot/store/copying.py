"""Copying an SQLite installation into PostgreSQL (`reflect db copy`), keeping pseudonyms and
keys.

Nothing is decrypted or re-encrypted: rows are copied as they are (sealed text stays sealed, with
the row identities it was sealed with), and the data keys go, still wrapped under the secret, to
the keys database. With the same secret, every pseudonym stays valid and every reflection reads.

The tables copied are listed once, in `TABLES`: a table added later is copied by adding it
there. A table PostgreSQL has that is not listed is refused (its rows would silently stay
behind), and so is a table the SQLite file has, with rows, that is neither listed nor of the
store's own bookkeeping.

The whole copy happens in one transaction on each PostgreSQL database: the keys database's
commits first (a data key is always committed before a row that uses it), then the data
database's. A copy that fails part-way leaves the data database as it was; if the keys were
already committed, running the copy again finds the same keys there and goes on. A data
database that already holds rows is refused. A dry run does everything, then rolls both back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import sql

from bot.store import pg_schema
from bot.store.database import KEYS
from bot.store.errors import StoreError
from bot.store.pg_database import Connection, PgDatabases
from bot.store.pg_opening import check_before_migrating, check_separate, claim_pair
from bot.store.rows import SEEN_EVENTS_FOR, SEEN_REQUESTS_FOR
from bot.store.sqlite import SqliteStore
from bot.store.times import stamp, utcnow

#: Rows read and written at a time.
BATCH = 2_000
#: Seconds between progress lines within one table.
PROGRESS_EVERY = 2.0


@dataclass(frozen=True)
class CopiedTable:
    """A table `reflect db copy` copies, when both databases have it."""

    name: str
    #: The order rows are read and written in. An identity column the SQLite table lacks
    #: (reflections.seq, which orders equal finish times) numbers the rows in this order.
    order_by: str
    #: Rows older than this (by their `at` column) are not copied: claims that have expired.
    kept_for: dt.timedelta | None = None


#: Every table copied, in order (a table before those referring to it), with the order its rows
#: are read and written in.
ORDER_BY = {
    "sessions": "pseudonym",
    "reflections": "rowid",
    "answers": "reflection_id, position",
    "events": "id",
    "preferences": "pseudonym, name",
    "notices": "pseudonym, notice",
    "access_log": "id",
    "seen_events": "at",
    "seen_requests": "at",
    "reminder_teams": "rowid",
    "reminder_opt_outs": "rowid",
    "reminder_ledger": "rowid",
    "reminder_profiles": "person",
    "reminder_pacing": "workspace",
    "reminder_members": "channel",
    "reminder_leases": "name",
    "organisation_settings": "organisation, name",
    "organisation_members": "organisation, pseudonym",
    "outbox": "id",
    "installations": "workspace",
    "oauth_states": "digest",
    "organisations": "org",
}
#: The tables of claims that expire, and for how long each is kept (by its `at` column).
KEPT_FOR = {"seen_events": SEEN_EVENTS_FOR, "seen_requests": SEEN_REQUESTS_FOR}
TABLES: tuple[CopiedTable, ...] = tuple(
    CopiedTable(name, order_by=order, kept_for=KEPT_FOR.get(name))
    for name, order in ORDER_BY.items()
)
#: Each database's own bookkeeping, never copied: identity and migration records.
OWN_TABLES = frozenset({"meta", "reflect_migrations", "_sqlite_migrations"})


class CopyRefused(StoreError):
    """The copy cannot be made as asked; nothing was changed. The message says why."""


@dataclass
class Copied:
    """What a copy did (or, in a dry run, would do)."""

    rows: dict[str, int] = field(default_factory=dict)
    keys: int = 0
    keys_already_there: int = 0
    left_behind: dict[str, int] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    dry_run: bool = False


Progress = Callable[[str], None]


def copy_to_postgres(
    source: SqliteStore,
    databases: PgDatabases,
    *,
    dry_run: bool = False,
    leave_behind: Collection[str] = (),
    progress: Progress = lambda line: None,
    clock: Callable[[], dt.datetime] = utcnow,
    tables: Sequence[CopiedTable] = TABLES,
) -> Copied:
    """Copy `source` (open, with the secret the copy keeps) into the PostgreSQL `databases`
    (open). Raises CopyRefused (nothing changed) when the copy cannot be made as asked."""
    keyring = source.keyring
    check_separate(databases)
    check_before_migrating(databases, keyring)
    copied = Copied(dry_run=dry_run)
    with (
        source.reading() as lite,
        databases.pool.connection() as conn,
        conn.transaction(force_rollback=dry_run),
        databases.keys() as keys,
        keys.transaction(force_rollback=dry_run),
    ):
        copied.migrations = pg_schema.migrate(keys, [pg_schema.KEYS_MIGRATIONS])
        copied.migrations += pg_schema.migrate(conn, pg_schema.data_sets())
        claim_pair(databases, conn, keys, keyring)
        plan = _plan(lite, conn, tables=tables, leave_behind=leave_behind, now=clock())
        copied.left_behind = plan.left_behind
        _lock(conn, [table.name for table in plan.tables])
        _refuse_if_holding_data(conn, plan.tables)
        copied.keys, copied.keys_already_there = _copy_keys(lite, keys, progress=progress)
        for table in plan.tables:
            copied.rows[table.name] = _copy_table(lite, conn, table, plan, progress=progress)
            _advance_sequences(conn, table.name, plan.columns[table.name])
        _verify(conn, keys, copied)
    return copied


@contextlib.contextmanager
def sqlite_source(
    path: Path, keys_path: Path, *, secret: bytes, snapshot: bool
) -> Iterator[SqliteStore]:
    """The SQLite store to copy from: the files themselves, or (`snapshot`) copies of them
    made with SQLite's online backup, in a private temporary folder."""
    if not snapshot:
        with SqliteStore.open(path, secret=secret, keys_path=keys_path) as store:
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="reflect-copy-") as folder:
        copies = Path(folder) / path.name, Path(folder) / keys_path.name
        for original, target in zip((path, keys_path), copies, strict=True):
            with (
                contextlib.closing(sqlite3.connect(f"file:{original}?mode=ro", uri=True)) as db,
                contextlib.closing(sqlite3.connect(target)) as copy,
            ):
                db.backup(copy)
        with SqliteStore.open(copies[0], secret=secret, keys_path=copies[1]) as store:
            yield store


# ---------------------------------------------------------------------- planning


@dataclass
class _Plan:
    tables: list[CopiedTable]
    columns: dict[str, list[str]]
    since: dict[str, str]
    left_behind: dict[str, int]


def _plan(
    lite: Any,
    conn: Connection,
    *,
    tables: Sequence[CopiedTable],
    leave_behind: Collection[str],
    now: dt.datetime,
) -> _Plan:
    """Which tables to copy, with which columns; refuses what would lose rows."""
    listed = {table.name for table in tables}
    theirs = _sqlite_columns(lite)
    ours = _postgres_columns(conn)
    unknown = sorted(set(ours) - listed - OWN_TABLES)
    if unknown:
        raise CopyRefused(
            f"The PostgreSQL database has tables `reflect db copy` does not know "
            f"({', '.join(unknown)}): this release cannot fill them, so nothing was copied. "
            "Use the release of Reflect that made them."
        )
    strays = {
        name: count
        for name in sorted(set(theirs) - listed - OWN_TABLES)
        if not name.startswith("sqlite_") and (count := _count(lite, name)) > 0
    }
    refused = {name: count for name, count in strays.items() if name not in leave_behind}
    if refused:
        raise CopyRefused(
            f"The SQLite database has rows in tables `reflect db copy` does not know "
            f"({_listing(refused)}); nothing was copied. Pass --leave-behind TABLE for each "
            "to copy without them."
        )
    plan = _Plan(tables=[], columns={}, since={}, left_behind=dict(strays))
    missing: dict[str, int] = {}
    for table in tables:
        if table.name not in theirs:
            continue
        since = stamp(now - table.kept_for) if table.kept_for is not None else None
        count = _count(lite, table.name, since=since)
        if table.name not in ours:
            if count and table.name not in leave_behind:
                missing[table.name] = count
            elif count:
                plan.left_behind[table.name] = count
            continue
        columns = [name for name, _required in theirs[table.name]]
        _check_columns(table.name, columns, ours[table.name])
        plan.tables.append(table)
        plan.columns[table.name] = columns
        if since is not None:
            plan.since[table.name] = since
    if missing:
        raise CopyRefused(
            f"The PostgreSQL database has no table for rows the SQLite database holds "
            f"({_listing(missing)}): this release does not keep them on PostgreSQL, so nothing "
            "was copied. Pass --leave-behind TABLE for each to copy without them."
        )
    return plan


def _check_columns(table: str, columns: list[str], target: list[tuple[str, bool]]) -> None:
    """Every SQLite column must have a place on PostgreSQL, and every PostgreSQL column that
    needs a value must get one from SQLite."""
    there = {name for name, _required in target}
    lost = [name for name in columns if name not in there]
    unfilled = [name for name, required in target if required and name not in columns]
    if lost or unfilled:
        detail = f"columns {', '.join(lost)} have no place" if lost else ""
        if unfilled:
            detail += ("; " if detail else "") + f"columns {', '.join(unfilled)} would be empty"
        raise CopyRefused(
            f"The table {table} differs between the SQLite and PostgreSQL databases ({detail}); "
            "nothing was copied. Bring both to this release's schema first."
        )


def _sqlite_columns(lite: Any) -> dict[str, list[tuple[str, bool]]]:
    names = [
        row[0]
        for row in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
    ]
    return {
        name: [(row[1], bool(row[3])) for row in lite.execute(f"PRAGMA table_info({name})")]
        for name in names
    }


def _postgres_columns(conn: Connection) -> dict[str, list[tuple[str, bool]]]:
    """Each table of the data database's schema: its columns, and whether each needs a value
    (NOT NULL with neither a default nor an identity)."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for table, column, nullable, default, identity, generated in conn.execute(
        "SELECT c.table_name, c.column_name, c.is_nullable, c.column_default, c.is_identity,"
        " c.is_generated FROM information_schema.columns c JOIN information_schema.tables t"
        " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    ).fetchall():
        required = (
            nullable == "NO" and default is None and identity != "YES" and generated == "NEVER"
        )
        found.setdefault(table, []).append((column, required))
    return found


def _count(lite: Any, table: str, *, since: str | None = None) -> int:
    where = " WHERE at >= ?" if since is not None else ""
    row = lite.execute(
        f"SELECT count(*) FROM {table}{where}", [since] if since is not None else []
    ).fetchone()
    return int(row[0])


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}: {count:,} rows" for name, count in counts.items())


def _lock(conn: Connection, names: list[str]) -> None:
    """Keep other writers out of the copied tables until the copy commits."""
    if names:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier(name) for name in names)
            )
        )


def _refuse_if_holding_data(conn: Connection, tables: Sequence[CopiedTable]) -> None:
    holding = {}
    for table in tables:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))
        ).fetchone()
        if row and row[0]:
            holding[table.name] = int(row[0])
    if holding:
        raise CopyRefused(
            f"The PostgreSQL database already holds data ({_listing(holding)}); "
            "`reflect db copy` fills empty databases only, so nothing was copied."
        )


# ---------------------------------------------------------------------- copying


def _copy_keys(lite: Any, keys: Connection, *, progress: Progress) -> tuple[int, int]:
    """Copy the wrapped data keys. Keys already in the keys database (a copy that failed
    after committing them) must be the very same; any other key there is refused."""
    held = dict(keys.execute("SELECT pseudonym, wrapped FROM data_keys").fetchall())
    source = lite.execute(
        f"SELECT pseudonym, wrapped, created_at, org FROM {KEYS}.data_keys ORDER BY pseudonym"
    ).fetchall()
    mine = {row[0] for row in source}
    differing = [row[0] for row in source if row[0] in held and held[row[0]] != row[1]]
    if differing or set(held) - mine:
        raise CopyRefused(
            "The PostgreSQL keys database already holds other data keys than the SQLite "
            "installation's; `reflect db copy` fills an empty keys database only, so nothing "
            "was copied."
        )
    _copy_org_keys(lite, keys, progress=progress)
    new = [row for row in source if row[0] not in held]
    progress(f"data keys: {len(new):,} to copy ({len(held):,} already there)")
    _write_keys(keys, "data_keys (pseudonym, wrapped, created_at, org)", new)
    return len(new), len(held)


def _copy_org_keys(lite: Any, keys: Connection, *, progress: Progress) -> None:
    """Copy the organisations' keys (each wrapped under the secret), which wrap their people's
    data keys; those already there (a copy that failed after committing them) are kept."""
    held = {org for (org,) in keys.execute("SELECT org FROM org_keys").fetchall()}
    source = lite.execute(
        f"SELECT org, wrapped, created_at FROM {KEYS}.org_keys ORDER BY org"
    ).fetchall()
    new = [row for row in source if row[0] not in held]
    progress(f"organisation keys: {len(new):,} to copy")
    _write_keys(keys, "org_keys (org, wrapped, created_at)", new)


def _write_keys(keys: Connection, into: str, rows: Sequence[Any]) -> None:
    """Write `rows` with COPY `into` a keys table (named with its columns)."""
    with keys.cursor() as cursor, cursor.copy(f"COPY {into} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_table(
    lite: Any, conn: Connection, table: CopiedTable, plan: _Plan, *, progress: Progress
) -> int:
    columns = plan.columns[table.name]
    since = plan.since.get(table.name)
    where = " WHERE at >= ?" if since is not None else ""
    total = _count(lite, table.name, since=since)
    cursor = lite.execute(
        f"SELECT {', '.join(columns)} FROM {table.name}{where} ORDER BY {table.order_by}",
        [since] if since is not None else [],
    )
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    )
    done = 0
    told = time.monotonic()
    with conn.cursor() as writer, writer.copy(statement) as copy:
        while batch := cursor.fetchmany(BATCH):
            for row in batch:
                copy.write_row(row)
            done += len(batch)
            if time.monotonic() - told >= PROGRESS_EVERY:
                progress(f"{table.name}: {done:,} of {total:,} rows")
                told = time.monotonic()
    progress(f"{table.name}: {done:,} rows copied")
    return done


def _advance_sequences(conn: Connection, table: str, columns: list[str]) -> None:
    """Columns numbered by a sequence (events.id, access_log.id) were copied with their
    numbers: move each sequence past the highest, so new rows get new numbers."""
    for column in columns:
        row = conn.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column]).fetchone()
        if not row or row[0] is None:
            continue
        conn.execute(
            sql.SQL(
                "SELECT setval(%s::regclass, max({column})) FROM {table} HAVING count(*) > 0"
            ).format(column=sql.Identifier(column), table=sql.Identifier(table)),
            [row[0]],
        )


def _verify(conn: Connection, keys: Connection, copied: Copied) -> None:
    """Count what arrived before committing: any difference rolls everything back."""
    for name, count in copied.rows.items():
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        found = conn.execute(query).fetchone()
        if not found or int(found[0]) != count:
            raise StoreError(f"The copy of {name} came out with other rows than were read.")
    row = keys.execute("SELECT count(*) FROM data_keys").fetchone()
    if not row or int(row[0]) != copied.keys + copied.keys_already_there:
        raise StoreError("The copy of the data keys came out with other rows than were read.")
