"""`reflect data`: a leader's own data (export, forget), retention, and backups.

Export and forget act for the terminal user (REFLECT_TERMINAL_USER) unless `--person` names
another identity, for an operator answering a subject access or erasure request. Identities
are what the transport uses: `TEAM:USER` for Slack (the enterprise id instead of the team on
Enterprise Grid), `terminal:NAME` for the terminal. Nothing here logs an identity or any text.

Acting on another person's data needs `--reason`: the command writes an append-only access
record (the day, what was done, the reason), which that person sees on their Home tab, and
`reflect data access-log` lists for the operator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import click

from bot import settings as settings_module
from bot.engine.clock import utcnow
from bot.engine.people import Person
from bot.settings import Settings
from bot.store import SqliteStore, Store, StoreError, open_store
from bot.store.export import as_json, as_markdown
from bot.store.organisations import OrganisationSettings

_person_option = click.option(
    "--person",
    "identity",
    metavar="IDENTITY",
    help="Act for this identity instead of the terminal user: TEAM:USER for Slack "
    "(e.g. T012AB3C4:U045DE6F7), terminal:NAME for the terminal.",
)


@click.group(name="data")
def command() -> None:
    """Your own data: export it, erase it; retention and backups."""


@contextlib.contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    try:
        store = open_store(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    try:
        yield store
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()


def _no_database(settings: Settings) -> bool:
    return not settings.uses_postgres and not settings.db_path.exists()


def _person(settings: Settings, identity: str | None) -> Person:
    if identity is None:
        return Person(f"terminal:{settings.terminal_user}")
    identity = identity.strip()
    head, _, tail = identity.partition(":")
    if not head or not tail:
        raise click.BadParameter(
            "expected TEAM:USER for Slack (e.g. T012AB3C4:U045DE6F7) or terminal:NAME.",
            param_hint="--person",
        )
    return Person(identity)


_reason_option = click.option(
    "--reason",
    metavar="TEXT",
    help="Why you act on another person's data (required with --person), e.g. 'subject access "
    "request'. It is written to the access log, which the person sees on their Home tab.",
)


def _required_reason(identity: str | None, reason: str | None) -> str | None:
    """The reason for acting on another person's data, or None when acting for oneself."""
    if identity is None:
        return None
    reason = " ".join((reason or "").split())
    if not reason:
        raise click.UsageError(
            "--reason is required with --person: say why (it is shown to the person, e.g. "
            "--reason 'subject access request')."
        )
    if len(reason) > 200:
        raise click.BadParameter("keep it under 200 characters.", param_hint="--reason")
    return reason


def _flow_titles(settings: Settings) -> dict[str, str]:
    """Flow titles for the export, when the flows can be read; ids otherwise."""
    try:
        from bot.engine.authoring.loading import load_library

        loaded = load_library(sorted(settings.flows_dir.glob("*.yaml")), default="")
        return {flow.id: flow.title for flow in loaded.library}
    except Exception:  # an export must never fail for want of a title
        return {}


@command.command(name="export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="Markdown to read, JSON to move to another service.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this new file (readable only by you) instead of the screen.",
)
@_person_option
@_reason_option
def export(fmt: str, output: Path | None, identity: str | None, reason: str | None) -> None:
    """Everything Reflect keeps for you, newest first.

    With --person (and --reason), another person's: the export is written to the access log
    they see on their Home tab."""
    settings = settings_module.load()
    person = _person(settings, identity)
    why = _required_reason(identity, reason)
    if output is not None and output.exists():
        raise click.ClickException(f"{output} already exists; choose a new file name.")
    if _no_database(settings):
        kept = []
    else:
        with _store(settings) as store:
            if why is not None:  # recorded before anything is decrypted
                store.record_access(person, action="export", reason=why, at=utcnow())
            kept = store.export(person)
    render = as_json if fmt == "json" else as_markdown
    document = render(kept, exported_at=utcnow(), titles=_flow_titles(settings))
    if output is None:
        click.echo(document, nl=False)
    else:
        _write_private(output, document)
        click.echo(f"Exported {_reflections(len(kept))} to {output}.", err=True)
    if not kept:
        click.echo("No reflections are kept for this person.", err=True)


@command.command(name="forget")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_person_option
@_reason_option
def forget(yes: bool, identity: str | None, reason: str | None) -> None:
    """Erase everything kept for you, for good, including from earlier backups.

    Kept: the access log (what the operator did to this person's data, so they can still see
    it), and, in the weekly reminders' own table, the opt-out marker of anyone who said "Not
    for me" (so that they are not reminded again)."""
    settings = settings_module.load()
    person = _person(settings, identity)
    why = _required_reason(identity, reason)
    who = "you" if identity is None else "this person"
    if _no_database(settings):
        click.echo(f"Nothing to erase: Reflect keeps nothing for {who} yet.")
        return
    with _store(settings) as store:
        count = len(store.export(person))
        if not yes:
            click.confirm(
                f"Erase {_reflections(count)}, any flow in progress and all records of "
                f"{who}? This cannot be undone",
                abort=True,
            )
        if why is not None:
            store.record_access(person, action="erase", reason=why, at=utcnow())
        gone = store.forget(person)
    click.echo(
        f"Erased {_reflections(gone)} and the key that could read them; earlier backups can "
        "no longer be read for this person either. Kept: the access log's record of what the "
        "operator did with this person's data (so they can still see it), and any \"Not for "
        'me" to weekly reminders (so they are not reminded again).'
    )


@command.command(name="access-log")
@_person_option
def access_log(identity: str | None) -> None:
    """What the server's operator has done to people's data: day, action, reason.

    Append-only: nothing can change or remove an entry. People are shown by pseudonym (the
    first 12 characters); with --person, one person's entries only."""
    settings = settings_module.load()
    if _no_database(settings):
        click.echo("The access log is empty.")
        return
    person = _person(settings, identity) if identity is not None else None
    with _store(settings) as store:
        records = store.access_records(person)
    if not records:
        click.echo("The access log is empty.")
        return
    for record in records:
        click.echo(
            f"{record.day:%Y-%m-%d}  {record.pseudonym[:12]}  {record.action:<7}  {record.reason}"
        )


@command.command(name="purge")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    help="Purge what is older than this many days [default: REFLECT_RETENTION_DAYS, 365].",
)
def purge(older_than_days: int | None) -> None:
    """Delete reflections older than the retention period (the bot also does this daily)."""
    settings = settings_module.load()
    days = older_than_days or settings.retention_days
    cutoff = utcnow() - dt.timedelta(days=days)
    if _no_database(settings):
        click.echo("Nothing to purge: there is no database yet.")
        return
    with _store(settings) as store:
        gone = store.purge(older_than=cutoff)
        shorter = OrganisationSettings(store).purge_shorter(now=utcnow(), longest_days=days)
    click.echo(f"Purged {_reflections(gone)} finished before {cutoff:%d %B %Y} ({days} days).")
    if shorter:
        click.echo(f"Purged {_reflections(shorter)} past an organisation's own shorter period.")


@command.command(name="backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Copy the database to PATH, consistently, even while the bot runs.

    The data keys are not in the copy (they stay in the keys file beside the database), so a
    person erased later stays erased in every backup. Keep the secret key and the keys file
    safe too: without them a backup cannot be read. If you copy the keys file elsewhere,
    replace that copy often: an old copy still holds the keys of people erased since.

    To restore: stop the bot, put the copy in place of the database (removing any -wal and
    -shm files beside it), keep the current keys file, then run `reflect data purge` to clear
    what belonged to people erased since the backup.
    """
    settings = settings_module.load()
    if settings.uses_postgres:
        raise click.ClickException(
            "On PostgreSQL, back up with pg_dump: the data database and the keys database "
            "separately, kept apart."
        )
    if _no_database(settings):
        raise click.ClickException(f"There is no database at {settings.db_path} to back up.")
    with _store(settings) as store:
        assert isinstance(store, SqliteStore)
        store.backup(path)
        keys = store.keys_path
    click.echo(f"Backed up to {path}. Reading it needs the secret key and {keys}.")


def _reflections(count: int) -> str:
    return f"{count} reflection" + ("" if count == 1 else "s")


def _write_private(path: Path, text: str) -> None:
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}.") from None
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
