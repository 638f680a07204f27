"""`reflect start` (what `make run` calls): the Slack bot if Slack is configured, otherwise
the terminal chat."""

from __future__ import annotations

import click

from bot import settings as settings_module
from bot.commands import chat, run
from bot.engine import messages


@click.command(name="start")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Start Reflect: the Slack bot when SLACK_BOT_TOKEN is set, else the terminal chat."""
    settings = settings_module.load()
    if settings.slack_configured:
        # Socket Mode when there is an app-level token; HTTP when only a signing secret is set.
        http = not settings.socket_mode and bool(settings.slack_signing_secret)
        ctx.invoke(run.command, use_http=http, port=None)
        return
    click.echo(messages.text("terminal.no_slack"))
    ctx.invoke(chat.command)
