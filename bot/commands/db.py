"""`reflect db`: the database schema. Migrations are also applied when the bot starts; run
`reflect db migrate` before starting several processes on a new release."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from bot import settings as settings_module
from bot.settings import Settings
from bot.store import StoreError, migration


@click.group(name="db")
def command() -> None:
    """The database: its schema migrations (SQLite file or PostgreSQL)."""


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
