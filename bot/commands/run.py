"""`reflect run`: the Slack bot, over Socket Mode (SLACK_APP_TOKEN) or `--http`."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

import click
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import settings as settings_module
from bot.engine import messages
from bot.runtime import FlowsUnavailable, build_conversations
from bot.store import SqliteStore, Store, StoreError, open_store

if TYPE_CHECKING:
    from bot.slack.home import WeeklySection
    from bot.slack.launch import Background


@click.command(name="run")
@click.option(
    "--http", "use_http", is_flag=True, help="Serve HTTP (Events API) instead of Socket Mode."
)
@click.option(
    "--port", type=int, default=None, help="Port for --http (default REFLECT_HTTP_PORT, 3000)."
)
def command(use_http: bool, port: int | None) -> None:
    """Run the Slack bot.

    Uses Socket Mode when SLACK_APP_TOKEN is set (no public URL needed). With --http, serves
    POST /slack/events (signature-verified) and GET /healthz on PORT.
    """
    settings = settings_module.load()
    problems = settings.problems(http=use_http)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise click.ClickException(
            f"The Slack bot cannot start:\n{listed}\nSet these in .env (see .env.example) "
            "or in the environment."
        )
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        store = open_store(settings)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        if store.created_secret is not None:
            click.echo(messages.text("terminal.secret_created", path=store.created_secret))
        conversations = build_conversations(
            settings=settings, store=store, warn=logging.getLogger(__name__).warning
        )
        from bot.slack.launch import serve  # slack_bolt is loaded only when the bot runs

        weekly_home, scheduler = _weekly(settings, store)
        serve(
            settings=settings,
            store=store,
            conversations=conversations,
            http=use_http,
            port=port or settings.http_port,
            stop=stop,
            weekly=weekly_home,
            background=[scheduler] if scheduler is not None else [],
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


def _weekly(
    settings: settings_module.Settings, store: Store
) -> tuple[WeeklySection, Background | None]:
    """The weekly nudges' App Home section and scheduler, over the bot's own database."""
    from bot.schedule.service import service_for
    from bot.slack.home import weekly_section
    from bot.slack.weekly import for_store

    if not isinstance(store, SqliteStore):
        logging.getLogger(__name__).warning(
            "weekly nudges are off: they do not run on PostgreSQL yet"
        )
        return weekly_section, None

    section = for_store(store, settings=settings) or weekly_section
    scheduler = service_for(
        settings=settings, db_path=store.path, keyring=store.keyring
    ).scheduler()
    return section, scheduler


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
