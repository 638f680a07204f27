"""`reflect db`: the database schema. Migrations are also applied when the bot starts; run
`reflect db migrate` before starting several processes on a new release."""

from __future__ import annotations

import sys

import click

from bot import settings as settings_module
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
    settings = settings_module.load()
    try:
        applied = migration.migrate(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    where = migration.where(settings)
    if not applied:
        click.echo(f"{where} is up to date.")
        return
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"{where} is up to date ({len(applied)} migrations applied).")


@command.command(name="status")
def status() -> None:
    """List pending migrations; exit status 1 if there are any (for deploy scripts)."""
    settings = settings_module.load()
    try:
        waiting = migration.pending(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    where = migration.where(settings)
    if not waiting:
        click.echo(f"{where} is up to date.")
        return
    for name in waiting:
        click.echo(f"pending {name}")
    click.echo(f"{where}: {len(waiting)} migrations pending; run `reflect db migrate`.")
    sys.exit(1)
