"""`reflect --help` lists every command with its own one-line help, without importing the
commands; a command imports only what it needs (the terminal chat never imports Slack's
libraries or PostgreSQL's driver). Imports are checked in a fresh interpreter."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bot import cli


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_each_listed_line_is_the_commands_own_help(name: str) -> None:
    command = importlib.import_module(f"bot.commands.{name}").command
    for limit in (30, 45, 80, 200):
        listed = cli._Listed(name, cli.COMMANDS[name]).get_short_help_str(limit)
        assert listed == command.get_short_help_str(limit), (name, limit)


def test_the_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(cli.cli, ["--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    rows = result.output.split("Commands:", 1)[1].strip().splitlines()
    # The old name `nudges` works but is not listed.
    assert [row.split()[0] for row in rows] == list(cli.COMMANDS)


def test_the_help_imports_no_command() -> None:
    code = (
        "import sys\nfrom bot.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit as done:\n    assert done.code == 0"
    )
    modules = _imported_after(code)
    assert not {name for name in modules if name.startswith("bot.commands.")}
    for heavy in ("slack_bolt", "slack_sdk", "sqlite_utils", "jinja2", "psycopg", "pydantic"):
        assert heavy not in modules, heavy
    assert "bot.engine.safety" not in modules


def test_the_terminal_chat_imports_neither_slack_nor_postgres() -> None:
    modules = _imported_after("import bot.commands.chat")
    for unneeded in ("slack_bolt", "slack_sdk", "psycopg", "psycopg_pool", "waitress"):
        assert unneeded not in modules, unneeded
