"""The one way Reflect speaks to Slack's Web API, with three policies.

- **Retrying** (`web_client`): for conversation posts, views and the Home tab. 429s are waited
  out per Retry-After, 5xx and dropped connections retried with backoff (bot.slack.delivery
  .retries); the poster (bot.slack.delivery.poster) logs what is still refused and carries on.
- **Posting once** (`posting_once`): the retrying policy without retrying what may have
  posted, for the outbox's replies (bot.slack.delivery.outbox), which look before posting again.
- **Single-shot** (`single_shot_client`): exactly one HTTP request per call, for the ledgered
  weekly reminders (bot.slack.delivery.reminder_api), whose sender decides itself when to wait
  and never re-posts silently, and for looking people up before an ack (no time to wait).

Which token: with one bot token (a self-hosted workspace) every client uses it. Installed
over OAuth, each request is authorised by Bolt with its own installation's token (rotated when
it is about to expire); `speaking_for(token)` makes it the token of every client call made
while handling that request, and of the work the request leaves on its person's lane (the
lanes carry it along). Outside a request, `speaking_for` names the installation to speak for.

This module also owns the base-URL fix, the one list of errors meaning a person is gone, and
the one reading of users.info (`look_up`). No other module makes a WebClient.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.settings import Settings
from bot.slack.delivery.retries import Sleep, retry_handlers

#: Slack errors meaning this person can no longer be messaged (deactivated, deleted, a bot).
GONE = frozenset({"account_inactive", "user_not_found", "user_disabled", "cannot_dm_bot"})


@dataclass(frozen=True)
class SlackProfile:
    """What users.info says of a person that Reflect uses; kept in memory only, never stored."""

    first_name: str | None = None
    tz: str | None = None
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False
    #: An admin or owner of the whole Enterprise Grid organisation.
    is_org_admin: bool = False


#: The token of the installation being spoken for (None: the client's own token).
_speaking_for: ContextVar[str | None] = ContextVar("reflect_installation_token", default=None)


@contextlib.contextmanager
def speaking_for(token: str | None) -> Iterator[None]:
    """Every call of a gateway client inside this block uses `token` (an installation's bot
    token); None leaves each client its own."""
    mark = _speaking_for.set(token)
    try:
        yield
    finally:
        _speaking_for.reset(mark)


#: The key of the installation a request came through (bot.slack.identity.installation_key).
_installation: ContextVar[str | None] = ContextVar("reflect_installation_key", default=None)


def speak_for(token: str | None, *, installation: str | None = None) -> None:
    """From here on in the current context (one request: bot.slack.serving.http runs each in
    a context of its own), gateway clients use `token`; None: each its own. `installation`
    names the installation the request came through, for what is left to do later outside a
    request (`installation_key`: the outbox's rows)."""
    _speaking_for.set(token)
    _installation.set(installation)


def installation_key() -> str | None:
    """The installation the current request came through, installed over OAuth (else None)."""
    return _installation.get()


def installation_token() -> str | None:
    """The token `speaking_for` set, if any."""
    return _speaking_for.get()


class InstallationClient(WebClient):
    """A WebClient that uses the token of the installation being spoken for, else its own."""

    @property
    def token(self) -> str | None:
        return _speaking_for.get() or self._own_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._own_token = value


def api_base_url(url: str) -> str:
    """slack_sdk joins method names onto the base URL: it must end with a slash."""
    return url if url.endswith("/") else url + "/"


def web_client(
    *, settings: Settings, sleep: Sleep = time.sleep, backoff: float = 0.5, timeout: float = 10
) -> WebClient:
    """The retrying policy, pointed at settings.slack_api_url."""
    return InstallationClient(
        token=settings.slack_bot_token,
        base_url=api_base_url(settings.slack_api_url),
        timeout=timeout,  # type: ignore[arg-type]  # urllib takes fractions too
        retry_handlers=retry_handlers(sleep=sleep, backoff=backoff),
    )


def single_shot_client(*, token: str | None, base_url: str, timeout: float) -> WebClient:
    """The single-shot policy: one request per call, no retry handlers."""
    return InstallationClient(
        token=token,
        base_url=api_base_url(base_url),
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=[],
    )


def posting_once(client: WebClient) -> WebClient:
    """The outbox's posting policy, from a retrying client (same token, server, timeout and
    sleep): 429s are still waited out (Slack took nothing), but a 5xx or a dropped connection,
    which may have posted, is not retried: the caller looks for the post's delivery key first
    (bot.slack.delivery.delivery_keys)."""
    own = client._own_token if isinstance(client, InstallationClient) else client.token
    return InstallationClient(  # the installation spoken for, as the client it comes from
        token=own,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[
            handler
            for handler in client.retry_handlers
            if isinstance(handler, RateLimitErrorRetryHandler)
        ],
    )


def webhook(url: str, *, timeout: float = 10) -> WebhookClient:
    """A slash command's response URL: answering it after the ack (retrying as conversation
    posts do)."""
    return WebhookClient(
        url=url,
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(),
    )


def look_up(client: WebClient, user: str) -> SlackProfile:
    """users.info, read. Slack's errors are raised as slack_sdk raises them."""
    return read_profile(client.users_info(user=user).get("user") or {}, user)


def read_profile(data: dict[str, Any], user: str) -> SlackProfile:
    """One user object (users.info's `user`, an element of users.list's `members`), read."""
    first = str((data.get("profile") or {}).get("first_name") or "").strip()
    grid = data.get("enterprise_user") or {}
    return SlackProfile(
        first_name=first or None,
        tz=data.get("tz") or None,
        deleted=bool(data.get("deleted")),
        is_bot=bool(data.get("is_bot") or data.get("is_app_user")) or user == "USLACKBOT",
        is_admin=bool(data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")),
        is_org_admin=bool(grid.get("is_admin") or grid.get("is_owner")),
    )
