"""The `reflect` command: thin click commands over the engine, store, Slack app and scheduler.

Each group lives in its own module under bot/commands and exposes `command`.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from bot import settings as settings_module
from bot.engine.safety import SafetyConfigError
from bot.engine.signposts import SignpostsError
from bot.engine.supervisors import SupervisorsError
from bot.runtime import FlowsUnavailable
from bot.store.errors import StoreError

CONFIGURATION_ERRORS = (SignpostsError, SupervisorsError, SafetyConfigError, FlowsUnavailable)

#: Command modules, in the order `reflect --help` lists them.
COMMANDS = ("start", "chat", "flows", "run", "nudges", "data", "stats", "db")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="reflect-bot", prog_name="reflect")
def cli() -> None:
    """Reflect: a private space for leaders to reflect after a hard day.

    Try it with no Slack at all: `reflect chat`. Run the Slack bot: `reflect run`.
    """


for _name in COMMANDS:
    _module = importlib.import_module(f"bot.commands.{_name}")
    cli.add_command(_module.command)


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
    except CONFIGURATION_ERRORS as error:  # a broken config/*.yaml or no usable flow
        click.echo(f"reflect: {error}", err=True)
        sys.exit(1)


logging.getLogger("slack_bolt").addHandler(logging.NullHandler())


if __name__ == "__main__":
    main()
