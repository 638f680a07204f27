"""Running the Slack bot: Socket Mode or HTTP, with daily housekeeping alongside.

`serve` blocks until `stop` is set (or Ctrl-C), then closes the connection, lets queued posts
finish and stops housekeeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.engine.clock import utcnow
from bot.engine.conversation import Conversations
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.delivery.gateway import web_client
from bot.slack.delivery.lanes import Lanes
from bot.slack.identity import org_of
from bot.slack.serving.housekeeping import Housekeeping
from bot.slack.serving.http import HttpServer
from bot.slack.serving.socket import SocketModeRunner
from bot.store import Store
from bot.weekly.actions import WeeklyActions

log = logging.getLogger(__name__)


class Background(Protocol):
    """Something that runs beside the bot (e.g. the weekly nudge scheduler)."""

    def start(self) -> None: ...

    def stop(self) -> object: ...


def serve(
    *,
    settings: Settings,
    store: Store,
    conversations: Conversations,
    http: bool,
    port: int,
    stop: threading.Event,
    host: str | None = None,
    client: WebClient | None = None,
    weekly: WeeklyActions | None = None,
    background: Sequence[Background] = (),
) -> None:
    client = client or web_client(settings=settings)
    if not settings.oauth:  # one bot token: a wrong one, or an unreachable Slack, stops us here
        adopt_single_workspace(store, client.auth_test().data)
    lanes = Lanes()
    app = build_app(
        conversations=conversations,
        store=store,
        settings=settings,
        client=client,
        lanes=lanes,
        weekly=weekly,
    )
    housekeeping = Housekeeping(store=store, retention_days=settings.retention_days, clock=utcnow)
    housekeeping.start()
    for task in background:
        task.start()
    try:
        if http:
            server = HttpServer(
                app=app,
                host=host or settings.http_host,
                port=port,
                signing_secret=settings.slack_signing_secret,
            )
            _serve_http(app_server=server, stop=stop)
        else:
            assert settings.slack_app_token, "Socket Mode needs SLACK_APP_TOKEN"
            runner = SocketModeRunner(app=app, app_token=settings.slack_app_token, client=client)
            runner.connect()
            log.info("connected to Slack over Socket Mode")
            try:
                stop.wait()
            finally:
                runner.close()
    finally:
        for task in background:
            task.stop()
        housekeeping.stop()
        lanes.close()


def adopt_single_workspace(store: Store, identity: Mapping[str, Any] | bytes) -> None:
    """With one bot token: the people kept before organisations had keys of their own belong
    to the one workspace (or Grid organisation) the token serves; put them under its key, so
    that an uninstall erases them too (once; nothing to do afterwards)."""
    if not isinstance(identity, Mapping):
        return
    org = org_of(
        enterprise_id=identity.get("enterprise_id"),
        team_id=identity.get("team_id"),
        org_wide=bool(identity.get("is_enterprise_install")),
    )
    adopt = getattr(store, "adopt_people", None)
    if org and adopt is not None:
        moved = adopt(org)
        if moved:
            log.info("%d people's keys moved under their workspace's key", moved)


def _serve_http(*, app_server: HttpServer, stop: threading.Event) -> None:
    def stop_when_told() -> None:
        stop.wait()
        app_server.stop()

    threading.Thread(target=stop_when_told, name="reflect-http-stop", daemon=True).start()
    log.info(
        "serving Slack requests on %s port %d (POST /slack/events, GET /healthz;"
        " GET /slack/install when installing over OAuth)",
        app_server.host,
        app_server.port,
    )
    app_server.run()
