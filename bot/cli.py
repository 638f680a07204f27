"""The `reflect` command: thin click commands over the engine, store, Slack app and scheduler.

Each group lives in its own module under bot/commands and exposes `command`. The modules are
imported when a command is used, not when this one is: configuration read on import (the
safety phrase lists) then fails inside `main`, which turns it into one line.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from bot import settings as settings_module
from bot.store.errors import StoreError

#: Errors that mean a configuration file (config/*.yaml, the flows) cannot be used, by module
#: and name: the module may be the one that failed to import.
CONFIGURATION_ERRORS = frozenset(
    {
        ("bot.engine.signposts", "SignpostsError"),
        ("bot.engine.supervisor_suggestion", "SupervisorsError"),
        ("bot.engine.safety", "SafetyConfigError"),
        ("bot.runtime", "FlowsUnavailable"),
    }
)

#: Command modules, in the order `reflect --help` lists them, each with the first paragraph of
#: its help: the list is written from these, without importing every command (and with it
#: Bolt, sqlite-utils, the flows and the safety phrase lists) to read one line of each.
#: tests/test_cli_help.py checks each against its command's own help.
COMMANDS: dict[str, str] = {
    "start": "Start Reflect: the Slack bot when SLACK_BOT_TOKEN is set, else the terminal chat.",
    "chat": "Reflect in the terminal, on this machine's own private database.",
    "flows": "Write and check reflective flows (YAML files, one flow per file).",
    "run": "Run the Slack bot.",
    "reminders": (
        "Weekly reflection reminders that team leads switch on with `/reflect weekly on #team`."
    ),
    "data": "Your own data: export it, erase it; retention and backups.",
    "stats": (
        "Reflections, scale answers and supervisor nudges per flow and week, for groups of at "
        "least REFLECT_MIN_GROUP_SIZE people. Never any text, never safety signposts."
    ),
    "org": (
        "One organisation's own settings (signposts, supervisors, default flow, retention); "
        "and erasing an organisation that uninstalled Reflect."
    ),
    "db": (
        "The database: its schema migrations (SQLite file or PostgreSQL), and copying an SQLite "
        "installation into PostgreSQL."
    ),
}
#: Old names that still work, left out of `reflect --help`: `reflect nudges` was the weekly
#: reminders' name before they were called reminders.
ALIASES = {"nudges": "reminders"}


class _Listed(click.Command):
    """A command not imported yet, as `reflect --help` lists it: its name and help."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name, help=summary)


class _Commands(click.Group):
    """The command modules, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = ALIASES.get(cmd_name, cmd_name)
        if name in COMMANDS and name not in self.commands:
            module = importlib.import_module(f"bot.commands.{name}")
            self.add_command(module.command, name)
        return super().get_command(ctx, name)

    def _listed(self, name: str) -> click.Command:
        """The command if it is imported already, else its name and help from `COMMANDS`."""
        return self.commands.get(name) or _Listed(name, COMMANDS[name])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their one-line help, as click writes them, from `COMMANDS`."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._listed(name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="reflect-bot", prog_name="reflect")
def cli() -> None:
    """Reflect: a private space for leaders to reflect after a hard day.

    Try it with no Slack at all: `reflect chat`. Run the Slack bot: `reflect run`.
    """


def is_configuration_error(error: BaseException) -> bool:
    kind = type(error)
    return any((klass.__module__, klass.__name__) in CONFIGURATION_ERRORS for klass in kind.__mro__)


def main() -> None:
    """Console entry point: settings problems and known errors become one clear line."""
    try:
        cli(standalone_mode=True)
    except settings_module.SettingsError as error:
        click.echo(f"reflect: {error}", err=True)
        sys.exit(2)
    except StoreError as error:  # e.g. the wrong secret key: one line, never a traceback
        click.echo(f"reflect: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # a broken config/*.yaml or no usable flow, whenever read
        if not is_configuration_error(error):
            raise
        click.echo(f"reflect: {one_line(str(error))}", err=True)
        sys.exit(1)


def one_line(message: str) -> str:
    """A message (a YAML parser's, say, with its pointer lines) folded onto one line."""
    return " ".join(message.split())


logging.getLogger("slack_bolt").addHandler(logging.NullHandler())


if __name__ == "__main__":
    main()
