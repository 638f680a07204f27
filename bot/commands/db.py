"""`reflect db`: the database schema, and moving an SQLite installation to PostgreSQL.
Migrations are also applied when the bot starts; run `reflect db migrate` before starting
several processes on a new release."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from bot import settings as settings_module
from bot.settings import Settings
from bot.store import StoreError, load_or_create_secret, migration
from bot.store.database import keys_path_for
from bot.store.secret import SECRET_FILE


@click.group(name="db")
def command() -> None:
    """The database: its schema migrations (SQLite file or PostgreSQL), and copying an SQLite
    installation into PostgreSQL."""


@command.command(name="migrate")
def migrate() -> None:
    """Apply every pending migration, creating the tables on a new database.

    On PostgreSQL (REFLECT_DATABASE_URL), both the data and the keys database are migrated,
    each in one transaction under a lock: safe while other processes start.
    """
    where, applied = _list(migration.migrate, each="applied")
    if applied:
        click.echo(f"{where} is up to date ({len(applied)} migrations applied).")


@command.command(name="status")
def status() -> None:
    """List pending migrations; exit status 1 if there are any (for deploy scripts)."""
    where, waiting = _list(migration.pending, each="pending")
    if waiting:
        click.echo(f"{where}: {len(waiting)} migrations pending; run `reflect db migrate`.")
        sys.exit(1)


def _list(find: Callable[[Settings], list[str]], *, each: str) -> tuple[str, list[str]]:
    """Run `find` on the settings and echo each migration it names, or that the database is
    up to date; a StoreError is a one-line error."""
    settings = settings_module.load()
    try:
        names = find(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    where = migration.where(settings)
    if not names:
        click.echo(f"{where} is up to date.")
    for name in names:
        click.echo(f"{each} {name}")
    return where, names


@command.command(name="copy")
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The SQLite database to copy (default: REFLECT_DB, or data/reflect.db). Its keys file "
    "(reflect-keys.db beside it) goes to the keys database.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything and make the whole copy, then roll it back: nothing changes on "
    "either side (the SQLite files are read from a snapshot taken first).",
)
@click.option(
    "--leave-behind",
    multiple=True,
    metavar="TABLE",
    help="Copy without this SQLite table's rows (repeat for more), where PostgreSQL has no "
    "table for them. Without it, such rows make the copy refuse.",
)
def copy(source: Path | None, dry_run: bool, leave_behind: tuple[str, ...]) -> None:
    """Copy an SQLite installation into PostgreSQL, keeping pseudonyms and keys.

    Copies the SQLite database (REFLECT_DB) into REFLECT_DATABASE_URL and its data keys into
    REFLECT_KEYS_DATABASE_URL, as they are: nothing is decrypted. Keep the same secret
    (REFLECT_SECRET_KEY, or secret.key in the data folder): with it, every pseudonym stays
    valid and every reflection stays readable.

    \b
    Copied: sessions, reflections and their answers, events, preferences,
    one-time notices, the access log, the weekly reminders' tables (where
    PostgreSQL has them), Slack event and request ids still within their
    windows, and the data keys.

    \b
    1. Stop the bot (what it writes during the copy would stay behind).
    2. Create two empty PostgreSQL databases (e.g. reflect, reflect_keys)
       and set both URLs.
    3. reflect db copy --dry-run, then reflect db copy.
    4. Start the bot on PostgreSQL; keep both SQLite files as a backup.

    The PostgreSQL databases are migrated first; if they already hold data the copy is
    refused. It is one transaction per database: if it fails, run it again. The SQLite files
    are not changed, except that they are brought to this release's schema, as starting the
    bot would.
    """
    settings = settings_module.load()
    if settings.database_url is None or settings.keys_database_url is None:
        raise click.ClickException(
            "Set REFLECT_DATABASE_URL and REFLECT_KEYS_DATABASE_URL to the PostgreSQL databases "
            "to copy into (see .env.example)."
        )
    path = source or settings.db_path
    keys_path = keys_path_for(path)
    for needed in (path, keys_path):
        if not needed.is_file():
            raise click.ClickException(f"There is no SQLite database at {needed} to copy.")
    if not (settings.secret_key or (settings.data_dir / SECRET_FILE).exists()):
        raise click.ClickException(
            f"No secret key: set REFLECT_SECRET_KEY (or put secret.key in {settings.data_dir}) "
            f"to the secret {path} was made with."
        )
    try:  # psycopg is needed only for PostgreSQL
        from bot.store.copying import copy_to_postgres, sqlite_source
        from bot.store.pg_database import PgDatabases
    except ImportError:
        raise click.ClickException(
            "psycopg is not installed: pip install 'reflect-bot[postgres]'."
        ) from None

    secret, _ = load_or_create_secret(settings)
    click.echo(f"Copying SQLite {path} into {migration.where(settings)}" + (" (dry run)" * dry_run))
    try:
        with sqlite_source(path, keys_path, secret=secret, snapshot=dry_run) as store:
            databases = PgDatabases(
                settings.database_url, keys_url=settings.keys_database_url, pool_size=1
            )
            databases.open()
            try:
                copied = copy_to_postgres(
                    store,
                    databases,
                    dry_run=dry_run,
                    leave_behind=leave_behind,
                    progress=lambda line: click.echo(f"  {line}"),
                )
            finally:
                databases.close()
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    for name in copied.migrations:
        click.echo(f"applied {name}")
    for name, count in copied.left_behind.items():
        click.echo(f"left behind: {name} ({count:,} rows)")
    rows = sum(copied.rows.values())
    done = f"{rows:,} rows in {len(copied.rows)} tables and {copied.keys:,} data keys"
    if dry_run:
        click.echo(f"Dry run: would copy {done}. Rolled back: nothing was changed.")
    else:
        click.echo(f"Copied {done}. Start the bot with REFLECT_DATABASE_URL set.")
