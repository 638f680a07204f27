"""Running the Slack bot: Socket Mode or HTTP, with daily housekeeping and the outbox's sweeper
alongside.

`serve` blocks until `stop` is set (or Ctrl-C), then closes the connection, lets queued posts
finish and stops housekeeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.engine.clock import utcnow
from bot.engine.conversation import Conversations
from bot.settings import Settings
from bot.slack.app import build_slack
from bot.slack.delivery.gateway import web_client
from bot.slack.delivery.lanes import Lanes
from bot.slack.delivery.outbox import OutboxSender, OutboxSweeper
from bot.slack.identity import org_of
from bot.slack.pages.render import PageFacts, pages
from bot.slack.serving.housekeeping import Housekeeping
from bot.slack.serving.http import HttpServer
from bot.slack.serving.socket import SocketModeRunner
from bot.slack.tokens import Installed
from bot.store import Store, StoreError
from bot.store.organisations import OrganisationSettings
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
    installed: Installed | None = None,
) -> None:
    client = client or web_client(settings=settings)
    if not settings.oauth:  # one bot token: a wrong one, or an unreachable Slack, stops us here
        adopt_single_workspace(store, client.auth_test().data)
    lanes = Lanes()
    app, parts = build_slack(
        conversations=conversations,
        store=store,
        settings=settings,
        client=client,
        lanes=lanes,
        weekly=weekly,
        installed=installed,
    )
    organisations = OrganisationSettings(store)
    housekeeping = Housekeeping(
        store=store,
        retention_days=settings.retention_days,
        clock=utcnow,
        shorter=lambda now: organisations.purge_shorter(
            now=now, longest_days=settings.retention_days
        ),
    )
    housekeeping.start()
    # What a previous process acked but did not post goes out now (and any process's
    # left-overs later on), whichever of several processes gets there first.
    sweeper = OutboxSweeper(OutboxSender(parts))
    sweeper.start()
    for task in background:
        task.start()
    try:
        if http:
            server = HttpServer(
                app=app,
                host=host or settings.http_host,
                port=port,
                signing_secret=settings.slack_signing_secret,
                pages=public_pages(settings, conversations),
                ready=database_answers(store),
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
        sweeper.stop()


def public_pages(settings: Settings, conversations: Conversations) -> dict[str, str]:
    """The install page, privacy notice and support page, from the server's settings."""
    return pages(
        PageFacts(
            retention_days=settings.retention_days,
            min_group_size=settings.min_group_size,
            signposts=conversations.signposts,
            operator=settings.operator_name,
            support_contact=settings.support_contact,
        )
    )


def database_answers(store: Store) -> Callable[[], bool]:
    """GET /healthz: whether the store's databases (the data and the keys) answer now, so that a
    load balancer stops sending requests to a process that cannot reach them. A change either
    way is logged once."""
    answered = [True]

    def ready() -> bool:
        try:
            store.ping()
        except StoreError as error:
            if answered[0]:
                log.warning("health check failing: %s", error)
            answered[0] = False
            return False
        if not answered[0]:
            log.warning("health check passing again: the database answers")
        answered[0] = True
        return True

    return ready


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
        "serving Slack requests on %s port %d (POST /slack/events, GET /healthz, the public"
        " pages /, /privacy, /support; GET /slack/install when installing over OAuth)",
        app_server.host,
        app_server.port,
    )
    app_server.run()
