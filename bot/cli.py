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

#: Command modules, in the order `reflect --help` lists them.
COMMANDS = ("start", "chat", "flows", "run", "reminders", "data", "stats", "db", "org")
#: Old names that still work, left out of `reflect --help`: `reflect nudges` was the weekly
#: reminders' name before they were called reminders.
ALIASES = {"nudges": "reminders"}


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
