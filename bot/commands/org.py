"""`reflect org`: organisations that installed Reflect over Slack.

`reflect org erase --now TEAM_ID` erases an organisation that uninstalled the app before its
grace period (REFLECT_ERASE_AFTER_UNINSTALL_DAYS) is over: its key goes first, so that every
reflection of its people becomes unreadable in the database and in every backup, then its
rows. An organisation still installed is refused: uninstalling comes first.
"""

from __future__ import annotations

import click

from bot import settings as settings_module
from bot.store import StoreError, open_store


@click.group(name="org")
def command() -> None:
    """Organisations that installed Reflect: erase one that uninstalled it."""


@command.command(name="erase")
@click.argument("org_id", metavar="TEAM_ID")
@click.option(
    "--now",
    "now",
    is_flag=True,
    help="Erase at once instead of when the grace period ends (required: nothing else is "
    "done without it).",
)
def erase(org_id: str, now: bool) -> None:
    """Erase an uninstalled organisation's data now.

    TEAM_ID is the workspace's id (T...), or the Grid organisation's (E...) for an
    organisation-wide install. Its organisation key is destroyed first, so every reflection
    of its people is unreadable in the database and in every earlier backup; then its rows
    are deleted.
    """
    if not now:
        raise click.UsageError(
            "Pass --now to erase before the grace period ends "
            "(REFLECT_ERASE_AFTER_UNINSTALL_DAYS); housekeeping erases it then otherwise."
        )
    org_id = org_id.strip()
    if not org_id.isalnum():
        raise click.BadParameter(
            "a Slack team or organisation id, e.g. T012AB3C4", param_hint="TEAM_ID"
        )
    settings = settings_module.load()
    try:
        store = open_store(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    try:
        if not store.is_uninstalled(org_id):
            raise click.ClickException(
                "That organisation has not uninstalled Reflect (or it is not known here): "
                "nothing was erased. Its data is erased after it uninstalls the app."
            )
        gone = store.erase_organisation(org_id)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
    click.echo(f"Erased: the organisation's key is destroyed and {gone} reflection(s) deleted.")
