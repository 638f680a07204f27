"""The Bolt app: the listeners wired to the engine, the store and the Web API client.

`build_slack` (or `build_app`, for the app alone) takes its collaborators as keyword arguments
so tests can hand in their own. The app runs with process_before_response: a listener stores
what it must (the engine saves every step, and its replies go into the outbox in the same
transaction), acks, and hands posting to the person's lane, so the ack goes back within
milliseconds and a crash after it loses neither the answer nor the reply
(bot.slack.delivery.outbox).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, cast

from slack_bolt import App
from slack_sdk import WebClient

from bot.engine.clock import utcnow
from bot.engine.conversation import Conversations
from bot.settings import Settings
from bot.slack import oauth
from bot.slack.delivery.lanes import Lanes
from bot.slack.delivery.names import Profiles
from bot.slack.delivery.poster import Poster
from bot.slack.listeners import (
    actions,
    answers,
    command,
    forget,
    home,
    messages,
    organisation,
    private,
    safety_answers,
    weekly_actions,
)
from bot.slack.parts import Parts
from bot.slack.serving import gate
from bot.slack.serving.logs import bolt_logger
from bot.slack.storage import SlackStore
from bot.slack.tokens import Installed
from bot.store.organisations import Organisations
from bot.weekly.actions import WeeklyActions

log = logging.getLogger(__name__)


def build_app(**collaborators: Any) -> App:
    """The app alone: `build_slack`'s keyword arguments, its app."""
    app, _ = build_slack(**collaborators)
    return app


def build_slack(
    *,
    conversations: Conversations,
    store: SlackStore,
    settings: Settings,
    client: WebClient,
    lanes: Lanes | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    weekly: WeeklyActions | None = None,
    installed: Installed | None = None,
) -> tuple[App, Parts]:
    """The app, and the parts its listeners share (for what runs beside it: the outbox).
    With settings.oauth, the app installs over OAuth (bot.slack.oauth) and keeps its
    installations in `store` (`installed`, made by bot.runtime.installed_over), which then
    keeps organisations' standing too."""
    standing = cast(oauth.Organisations, store)
    if settings.oauth and installed is None:
        raise ValueError("installing over OAuth needs the installations (installed_over)")
    installing = (
        oauth.oauth_settings(
            settings=settings, installations=installed.table, store=installed.store
        )
        if installed is not None
        else None
    )
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=True,
        logger=bolt_logger(),
        raise_error_for_unhandled_request=True,  # acknowledged: see bot.slack.serving.gate
        oauth_settings=installing,
        authorize=cast(Any, oauth.authorize(refresh=installed.refresh)) if installed else None,
    )
    parts = Parts(
        conversations=conversations,
        store=store,
        settings=settings,
        delivery=Poster(client=client),
        lanes=lanes or Lanes(),
        profiles=Profiles(client=client),
        clock=clock,
        app_id=settings.slack_app_id
        if settings.oauth
        else gate.own_app_id(client, configured=settings.slack_app_id),
        weekly=weekly,
        organisations=(
            conversations.organisation_of
            if isinstance(conversations.organisation_of, Organisations)
            else None
        ),
    )
    modules = (
        gate,
        messages,
        command,
        answers,
        safety_answers,
        private,
        actions,
        forget,
        home,
        weekly_actions,
        organisation,
    )
    if installed is not None:
        parts.token_for = installed.tokens.token_for
    for module in modules:
        module.register(app, parts)
    if hasattr(store, "is_uninstalled"):
        oauth.register(
            app,
            settings=settings,
            organisations=standing,
            clock=clock,
            forget_settings=parts.organisations.kept.erase if parts.organisations else None,
        )
    return app, parts
