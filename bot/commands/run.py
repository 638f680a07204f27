"""`reflect run`: the Slack bot, over Socket Mode (SLACK_APP_TOKEN) or `--http`."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import settings as settings_module
from bot.commands import logs
from bot.engine import messages
from bot.runtime import (
    FlowsUnavailable,
    build_conversations,
    build_weekly,
    installed_over,
)
from bot.store import StoreError, open_store


@click.command(name="run")
@click.option(
    "--http", "use_http", is_flag=True, help="Serve HTTP (Events API) instead of Socket Mode."
)
@click.option(
    "--port", type=int, default=None, help="Port for --http (default REFLECT_HTTP_PORT, 3000)."
)
@click.option(
    "--host",
    default=None,
    help="Address for --http to listen on (default REFLECT_HTTP_HOST, 127.0.0.1: put a "
    "reverse proxy in front; 0.0.0.0 listens on every interface).",
)
@click.option(
    "--allow-secret-in-data-dir",
    "allow_secret",
    is_flag=True,
    help="Run even though the secret key is generated inside the data folder, where a copy of "
    "the folder carries it (or set REFLECT_ALLOW_SECRET_IN_DATA_DIR=1). For trials.",
)
def command(use_http: bool, port: int | None, host: str | None, allow_secret: bool) -> None:
    """Run the Slack bot.

    Uses Socket Mode when SLACK_APP_TOKEN is set (no public URL needed). With --http, serves
    POST /slack/events (signature-verified) and GET /healthz on HOST:PORT.

    Set REFLECT_SECRET_KEY from somewhere other than the data folder: the bot refuses to start
    with the secret generated into it, unless told to.
    """
    settings = settings_module.load()
    problems = settings.problems(http=use_http)
    if not (settings.secret_key or allow_secret or settings.allow_secret_in_data_dir):
        problems.append(
            f"The secret key would be kept in {settings.data_dir / 'secret.key'}, inside the "
            "data folder, so a copy of that folder could read every reflection. Set "
            "REFLECT_SECRET_KEY from a place of its own (see .env.example), or pass "
            "--allow-secret-in-data-dir (REFLECT_ALLOW_SECRET_IN_DATA_DIR=1) for a trial."
        )
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise click.ClickException(
            f"The Slack bot cannot start:\n{listed}\nSet these in .env (see .env.example) "
            "or in the environment."
        )
    logs.configure(settings.log_level)
    try:
        store = open_store(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        if store.created_secret is not None:
            click.echo(messages.text("terminal.secret_created", path=store.created_secret))
        from bot.slack.identity import workspace_of  # slack_bolt is loaded only when the bot runs
        from bot.slack.serving.launch import serve

        conversations = build_conversations(
            settings=settings,
            store=store,
            warn=logging.getLogger(__name__).warning,
            workspace_of=workspace_of,
        )

        installed = installed_over(settings, store)
        tokens = installed.tokens.token_for if installed is not None else None
        built = build_weekly(settings=settings, store=store, token_for=tokens)
        weekly, background = (built[0], [built[1].scheduler()]) if built else (None, [])
        if built is None:
            logging.getLogger(__name__).warning(
                "weekly reminders are off: this store does not keep their tables"
            )
        serve(
            settings=settings,
            store=store,
            conversations=conversations,
            http=use_http,
            port=port or settings.http_port,
            host=host,
            stop=stop,
            weekly=weekly,
            background=background,
            installed=installed,
        )
    except FlowsUnavailable as error:
        raise click.ClickException(str(error)) from None
    except SlackApiError as error:
        code = error.response.get("error", "unknown")
        raise click.ClickException(
            f"Slack refused the bot's credentials ({code}). Check SLACK_BOT_TOKEN "
            "(and SLACK_APP_TOKEN for Socket Mode)."
        ) from None
    except SlackClientError as error:
        raise click.ClickException(f"Could not reach Slack: {type(error).__name__}.") from None
    except OSError as error:  # e.g. the port is taken, or Slack cannot be reached at all
        raise click.ClickException(f"Could not start: {error.strerror or error}.") from None
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        store.close()


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
