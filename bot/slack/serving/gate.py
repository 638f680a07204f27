"""What every request passes before any listener: meant for this app, and not a replay.

- **Another app's requests** (a payload whose `api_app_id` is not ours) are acknowledged and
  dropped. Our app id is SLACK_APP_ID when set, else what `auth.test` says, else the app of the
  token's own bot user (`bots.info`): `auth.test` may leave `app_id` out.
- **Replays.** Over HTTP every request carries Slack's signature, which covers its timestamp
  and body. The first time a signature is seen it is claimed in the store (a keyed digest, kept
  for the 5-minute signature window and a little more); a second request with the same
  signature, in this process or another sharing the database, is acknowledged and not acted
  on. Slack's own retries are signed afresh, so they pass here and are de-duplicated by event
  id (bot.slack.listeners.events). A request whose handling fails gives up its claim, so that
  sending it again works. Socket Mode requests carry no signature: the socket is authenticated.

`register` also installs the app's error handler: a request no listener takes is acknowledged
(bot.slack.serving.unhandled); a listener that fails is logged by the type of its error only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.slack.listeners.events import for_another_app
from bot.slack.parts import Parts
from bot.slack.serving import unhandled

log = logging.getLogger(__name__)


def register(app: App, parts: Parts) -> None:
    if parts.app_id is None:
        log.warning(
            "this app's id is not known (set SLACK_APP_ID): requests meant for other apps "
            "cannot be told apart"
        )

    @app.middleware
    def gate(
        req: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if for_another_app(body, app_id=parts.app_id):
            log.debug("a request meant for another app was acknowledged and dropped")
            return BoltResponse(status=200, body="")
        signature = _header(req, "x-slack-signature")
        if signature and not parts.store.claim_request(signature, at=parts.clock()):
            log.warning("a replayed request was acknowledged and not acted on")
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], request: BoltRequest
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            return unhandled.acknowledge(body)
        log.error("a Slack listener failed: %s", type(error).__name__)
        signature = _header(request, "x-slack-signature")
        if signature:
            parts.store.release_request(signature)
        return None


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    value = values[0] if isinstance(values, list | tuple) and values else values
    return value if isinstance(value, str) and value else None


def own_app_id(client: WebClient, *, configured: str | None) -> str | None:
    """This app's id: as configured, from `auth.test`, or from the bot user's `bots.info`."""
    if configured:
        return configured
    try:
        identity = client.auth_test()
        app_id = identity.get("app_id")
        if app_id:
            return str(app_id)
        bot_id = identity.get("bot_id")
        if not bot_id:
            return None
        found = client.bots_info(bot=str(bot_id)).get("bot") or {}
        return str(found["app_id"]) if found.get("app_id") else None
    except SlackClientError as error:
        log.warning("could not learn the app id: %s", type(error).__name__)
        return None
