"""Installing Reflect into many workspaces over OAuth, and what an uninstall does.

- `oauth_settings` gives Bolt its own OAuth flow: `/slack/install` (an "Add to Slack" page
  with a one-time state) and `/slack/oauth_redirect` (oauth.v2.access, then the installation
  saved in Reflect's database by bot.slack.installations). Bolt authorises every request with
  its installation's token (`authorize`), renewed when it is near expiry (token rotation is
  on: the installation carries a refresh token) once across processes
  (bot.slack.tokens.TokenRefresh).
- `register` adds, for every request: the token Bolt found becomes the token of every Web API
  call made for it, on its person's lane too (bot.slack.delivery.gateway.speaking_for); and a
  request from an organisation that uninstalled is acknowledged and dropped.
- On `app_uninstalled`, and on `tokens_revoked` for the bot, the installation is deleted (so
  nothing more is said to that workspace) and the organisation is marked for erasure after
  REFLECT_ERASE_AFTER_UNINSTALL_DAYS (bot.store.orgs); `reflect org erase --now` shortens it.
  The same is done with one bot token, for the one workspace it serves.
- On Enterprise Grid, `team_access_revoked` / `team_access_granted` tell an organisation-wide
  install which of its organisation's workspaces it may serve; a request from a revoked one is
  acknowledged and dropped (bot.slack.installations says what is kept).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Installation, InstallationStore

from bot.settings import Settings
from bot.slack.delivery.gateway import speak_for
from bot.slack.identity import installation_in, org_of
from bot.slack.installations import ReflectInstallationStore, ReflectStateStore
from bot.slack.tokens import TokenRefresh
from bot.store.installations import Installations

log = logging.getLogger(__name__)
#: Bolt's OAuth flow and authorisation log ids (team, enterprise) at DEBUG: they log under
#: slack_bolt, which bot.slack.serving.logs keeps at WARNING whatever REFLECT_LOG_LEVEL says.
bolt_log = logging.getLogger("slack_bolt.reflect_oauth")


class _FirstClause(logging.Filter):
    """What Bolt's OAuth flow warns of, without what follows: the install code, Slack's
    answer (ids), the error's details."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        record.msg = message.split(":", 1)[0].split(" due to ", 1)[0]
        record.args = ()
        return True


def _bolt_log() -> logging.Logger:
    """The logger handed to Bolt's OAuth flow and authorisation, with its filter."""
    if not any(isinstance(f, _FirstClause) for f in bolt_log.filters):
        bolt_log.addFilter(_FirstClause())
    return bolt_log


#: The bot scopes an installation asks for (the same as manifest.yml's).
SCOPES = (
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
)


class Organisations(Protocol):
    """What the store keeps of each organisation's standing (bot.store.orgs)."""

    def uninstalled(self, org_id: str, *, at: dt.datetime, erase_after: dt.datetime) -> None: ...

    def is_uninstalled(self, org_id: str) -> bool: ...

    def reinstalled(self, org_id: str) -> None: ...

    def erase_due(self, *, now: dt.datetime) -> int: ...


def oauth_settings(
    *, settings: Settings, installations: Installations, store: ReflectInstallationStore
) -> OAuthSettings:
    """Bolt's OAuth flow over Reflect's own installation and state stores."""
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(SCOPES),
        redirect_uri=settings.slack_redirect_uri,
        installation_store=store,
        state_store=ReflectStateStore(installations=installations),
        logger=_bolt_log(),
    )


class _Authorize(InstallationStoreAuthorize):
    """Bolt's authorisation, renewing tokens through `TokenRefresh` (once across processes)
    instead of on its own."""

    def __init__(self, *, refresh: TokenRefresh) -> None:
        super().__init__(
            logger=_bolt_log(),
            installation_store=refresh.store,
            token_rotation_expiration_minutes=refresh.minutes_before_expiry,
            # auth.test once per token, not per request: a rotated token is a new one, and an
            # uninstalled workspace has no token to find any more.
            cache_enabled=True,
        )
        self._refresh = refresh

    def _rotate_and_save_tokens_if_necessary(
        self, installation: Installation | None
    ) -> Installation | None:
        return self._refresh.refreshed(installation) if installation is not None else None


def authorize(*, refresh: TokenRefresh) -> InstallationStoreAuthorize:
    """Bolt's authorisation over the installation store, renewing tokens with `refresh` (whose
    client sends oauth.v2.access where every other call goes: SLACK_API_URL)."""
    return _Authorize(refresh=refresh)


def register(
    app: App,
    *,
    settings: Settings,
    organisations: Organisations,
    clock: Callable[[], dt.datetime],
    forget_settings: Callable[[str], None] | None = None,
) -> None:
    """Drop requests from organisations that uninstalled the app, and take note of an
    uninstall: its installation goes at once, and so do the organisation's own settings
    (`forget_settings`: its signposts and supervisor directory); its people's data is erased
    after the grace period."""
    installation_store: InstallationStore | None = app.installation_store
    grid = installation_store if isinstance(installation_store, ReflectInstallationStore) else None

    @app.middleware
    def installation(
        context: BoltContext, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        org = _org(context)
        if org is not None and _is_uninstall(body):
            return next()
        if org is not None and organisations.is_uninstalled(org):
            log.info("a request from an uninstalled organisation was acknowledged and dropped")
            return BoltResponse(status=200, body="")
        if grid is not None and _revoked(grid, context, body):
            log.info("a request from a workspace its organisation's install no longer reaches")
            return BoltResponse(status=200, body="")
        if settings.oauth:
            speak_for(context.bot_token, installation=installation_in(context))
        else:
            speak_for(None)
        return next()

    def uninstalled(context: BoltContext) -> None:
        org = _org(context)
        if org is None:
            return
        if installation_store is not None:
            installation_store.delete_all(
                enterprise_id=context.enterprise_id, team_id=context.team_id
            )
        now = clock()
        grace = dt.timedelta(days=settings.erase_after_uninstall_days)
        organisations.uninstalled(org, at=now, erase_after=now + grace)
        if forget_settings is not None:
            forget_settings(org)
        if not grace:  # no grace period: erased at once
            organisations.erase_due(now=now)
        log.info("the app was uninstalled from an organisation: its data is erased after %s", grace)

    @app.event("app_uninstalled")
    def on_app_uninstalled(ack: Callable[[], None], context: BoltContext) -> None:
        ack()
        uninstalled(context)

    def team_access(context: BoltContext, event: dict[str, Any], *, granted: bool) -> None:
        # Slack's reference shows the event once wrapped in another: read either.
        inner: dict[str, Any] = event["event"] if isinstance(event.get("event"), dict) else event
        teams = [str(team) for team in inner.get("team_ids") or event.get("team_ids") or []]
        if grid is not None and context.enterprise_id and teams:
            grid.team_access(context.enterprise_id, teams, granted=granted)
            log.info("workspaces %s: %d", "granted" if granted else "revoked", len(teams))

    @app.event("team_access_revoked")
    def on_team_access_revoked(
        ack: Callable[[], None], event: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        team_access(context, event, granted=False)

    @app.event("team_access_granted")
    def on_team_access_granted(
        ack: Callable[[], None], event: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        team_access(context, event, granted=True)

    @app.event("tokens_revoked")
    def on_tokens_revoked(
        ack: Callable[[], None], event: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        if (event.get("tokens") or {}).get("bot"):  # the bot's token: the app is gone
            uninstalled(context)


def _org(context: BoltContext) -> str | None:
    return org_of(
        enterprise_id=context.enterprise_id,
        team_id=context.team_id,
        org_wide=context.is_enterprise_install,
    )


def _is_uninstall(body: dict[str, Any]) -> bool:
    """An event about the installation itself (let through whatever the standing)."""
    return (body.get("event") or {}).get("type") in (
        "app_uninstalled",
        "tokens_revoked",
        "team_access_revoked",
        "team_access_granted",
    )


def _revoked(store: ReflectInstallationStore, context: BoltContext, body: dict[str, Any]) -> bool:
    """Whether the request comes, through an organisation-wide install, from a workspace that
    install no longer reaches (team_access_revoked). Through an organisation-wide install the
    authorisation names no workspace: the payload does (an event's `team_id`, an action's
    `team`, a slash command's `team_id`)."""
    if not (context.is_enterprise_install and context.enterprise_id):
        return False
    team = (
        context.team_id
        or body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
    )
    return bool(team) and team in store.revoked_teams(context.enterprise_id)
