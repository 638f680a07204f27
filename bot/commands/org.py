"""`reflect org`: one organisation's own settings (crisis signposts, supervisor directory,
default flow, retention), for a Slack workspace or Enterprise Grid organisation by its id;
and `reflect org erase --now TEAM_ID`, for an organisation that uninstalled Reflect.

Each setting is checked exactly as the built-in files are, every problem listed (file:line
for the supervisor directory); nothing is kept unless it passes. What an organisation has not
set falls back to the server's files and settings. A workspace admin can do the same from the
admin section of Reflect's Home tab.

`erase --now` erases an organisation that uninstalled the app before its grace period
(REFLECT_ERASE_AFTER_UNINSTALL_DAYS) is over: its key goes first, so that every reflection of
its people becomes unreadable in the database and in every backup, then its rows and its
settings. An organisation still installed is refused: uninstalling comes first.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from bot import settings as settings_module
from bot.engine.clock import utcnow
from bot.engine.organisation import (
    SETTINGS,
    Organisation,
    OrganisationSettingError,
    check,
    resolve,
)
from bot.runtime import organisation_defaults
from bot.settings import Settings
from bot.store import StoreError, open_store
from bot.store.organisations import OrganisationSettings

#: A Slack team id (T...) or enterprise id (E...).
WORKSPACE = re.compile(r"^[TE][A-Z0-9]{2,}$")
_FILES = ("signposts", "supervisors")


def _workspace(_: click.Context, __: click.Parameter, value: str) -> str:
    value = value.strip()
    if not WORKSPACE.match(value):
        raise click.BadParameter(
            "a Slack team id (T012AB3C4) or, on Enterprise Grid, the enterprise id (E012AB3C4)"
        )
    return value


_workspace_argument = click.argument("workspace", callback=_workspace)
_setting_choice = click.Choice(list(SETTINGS))


@click.group(name="org")
def command() -> None:
    """One organisation's own settings (signposts, supervisors, default flow, retention);
    and erasing an organisation that uninstalled Reflect.

    WORKSPACE is the Slack team id (T...), or the enterprise id (E...) on Enterprise Grid.
    """


@contextlib.contextmanager
def _kept(settings: Settings) -> Iterator[OrganisationSettings]:
    try:
        store = open_store(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    try:
        yield OrganisationSettings(store)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()


@command.command(name="show")
@_workspace_argument
def show(workspace: str) -> None:
    """What applies in WORKSPACE, and which settings are its own."""
    settings = settings_module.load()
    defaults, flows = organisation_defaults(settings)
    with _kept(settings) as kept:
        texts = kept.texts(workspace)
    found = resolve(texts, defaults=defaults, flows=flows, source="stored")
    for line in describe(found, today=utcnow().date().isoformat()):
        click.echo(line)
    for warning in found.warnings:
        click.echo(f"warning: {warning}", err=True)


def describe(found: Organisation, *, today: str) -> list[str]:
    """One line per setting: its value in short, and whether it is the organisation's own."""

    def whose(name: str) -> str:
        return "own" if name in found.own else "default"

    signposts = found.signposts
    overdue = "  (review overdue)" if signposts.review_by.isoformat() < today else ""
    return [
        f"signposts       {whose('signposts'):8} version {signposts.version}, "
        f"review by {signposts.review_by.isoformat()}{overdue}",
        f"supervisors     {whose('supervisors'):8} {len(found.supervisors)} listed",
        f"default-flow    {whose('default-flow'):8} {found.default_flow}",
        f"retention-days  {whose('retention-days'):8} {found.retention_days}",
    ]


@command.command(name="set")
@_workspace_argument
@click.argument("setting", type=_setting_choice)
@click.argument("value")
def set_(workspace: str, setting: str, value: str) -> None:
    """Set one SETTING for WORKSPACE, after checking it.

    For signposts and supervisors, VALUE is a YAML file in the format of config/signposts.yaml
    or config/supervisors.yaml (`-` reads it from standard input); for default-flow a flow id;
    for retention-days a number of days, at most the server's REFLECT_RETENTION_DAYS.
    """
    settings = settings_module.load()
    text, source = _value(setting, value)
    defaults, flows = organisation_defaults(settings, flows=setting == "default-flow")
    try:
        checked = check(setting, text, defaults=defaults, flows=flows, source=source)
    except OrganisationSettingError as problem:
        raise click.ClickException(f"{setting} not set:\n{problem}") from None
    with _kept(settings) as kept:
        kept.put(workspace, setting, checked, at=utcnow())
    click.echo(f"{setting} set for {workspace}.")


def _value(setting: str, value: str) -> tuple[str, str]:
    """The setting's text and where it came from (for file:line in problems)."""
    if setting not in _FILES:
        return value, setting
    if value == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(value).read_text(encoding="utf-8"), value
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {value}: {error}") from None


@command.command(name="get")
@_workspace_argument
@click.argument("setting", type=_setting_choice)
def get(workspace: str, setting: str) -> None:
    """Print the text WORKSPACE set for SETTING (to edit and set again)."""
    settings = settings_module.load()
    with _kept(settings) as kept:
        texts = kept.texts(workspace)
    if setting not in texts:
        raise click.ClickException(f"{workspace} has not set {setting}: the default applies.")
    click.echo(texts[setting], nl=not texts[setting].endswith("\n"))


@command.command(name="reset")
@_workspace_argument
@click.argument("setting", type=_setting_choice, required=False)
def reset(workspace: str, setting: str | None) -> None:
    """Go back to the default for SETTING (or for every setting) in WORKSPACE."""
    settings = settings_module.load()
    with _kept(settings) as kept:
        gone = kept.remove(workspace, setting)
    what = setting or "every setting"
    click.echo(f"{what}: back to the default for {workspace} ({gone} removed).")


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
        OrganisationSettings(store).erase(org_id)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.close()
    click.echo(f"Erased: the organisation's key is destroyed and {gone} reflection(s) deleted.")
