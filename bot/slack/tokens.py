"""An installation's bot token: renewed before it expires, once across processes
(`TokenRefresh`), and found outside a request (`InstallationTokens`).

Slack's refresh token is good for one use: two processes (or two requests) renewing the same
token at once must not both spend it. Under the installation's lock, held across processes
(bot.store.installations.Installations.refreshing: BEGIN IMMEDIATE on SQLite, an advisory lock
on PostgreSQL), the installation is read again, renewed only if it still needs it, and saved
before the lock is let go; whoever waited finds the new token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.slack.installations import ReflectInstallationStore
from bot.store.installations import Installations


def _due(installation: Installation, *, minutes: int) -> bool:
    """Whether the bot token expires within `minutes` (and can be renewed)."""
    expires = installation.bot_token_expires_at
    return (
        installation.bot_refresh_token is not None
        and expires is not None
        and expires <= time.time() + minutes * 60
    )


class TokenRefresh:
    """Renewing an installation's bot token before it expires, once across processes (see
    the module's header). Bolt's authorisation (requests) and `InstallationTokens` (outside
    requests) both renew through it."""

    def __init__(
        self,
        *,
        store: ReflectInstallationStore,
        client_id: str,
        client_secret: str,
        client: WebClient,
        minutes_before_expiry: int = 120,
    ) -> None:
        self.store = store
        self._rotator = TokenRotator(
            client_id=client_id, client_secret=client_secret, client=client
        )
        self.minutes_before_expiry = minutes_before_expiry

    def refreshed(self, installation: Installation) -> Installation | None:
        """The installation with a renewed token, saved, when `installation`'s was near
        expiry (renewed here, or by whoever held the lock before); None when it was not, or
        the installation is gone. Raises slack_sdk's SlackTokenRotationError when Slack
        refuses."""
        margin = self.minutes_before_expiry
        if not _due(installation, minutes=margin):
            return None
        with self.store.refreshing(installation) as current:
            if current is None:
                return None
            if not _due(current, minutes=margin):  # renewed while this one waited
                return current
            renewed = self._rotator.perform_token_rotation(
                installation=current, minutes_before_expiration=margin
            )
            if renewed is not None:
                self.store.save(renewed)
            return renewed


class InstallationTokens:
    """The bot token to speak with outside a request (the weekly reminders, the outbox's
    sweep): that of the installation the team or the reply came through (kept beside it when
    it was set up), renewed first when it is near expiry, as for requests. Use it with
    bot.slack.delivery.gateway.speaking_for."""

    def __init__(self, refresh: TokenRefresh) -> None:
        self._store = refresh.store
        self._refresh = refresh

    def token_for(self, installation: str) -> str | None:
        """The token of `installation`, as bot.slack.identity.installation_key recorded it when
        something was set up through it: ``T…`` (a workspace's own install), ``E…/T…`` (a Grid
        workspace's own install: else its organisation's org-wide install, once that took the
        workspace over), ``E…`` (an org-wide install).

        What was kept before installations were recorded names the person's workspace instead
        (person ids begin with it): a team id, or a Grid organisation's. For an organisation
        with no organisation-wide install, that is the one workspace of it that installed
        Reflect on its own; None when several did (which one is meant cannot be told). None
        too when there is no installation (never installed, or uninstalled)."""
        enterprise, _, team = installation.rpartition("/")
        if enterprise:  # a Grid workspace's own install, else its organisation's
            found = self._store.find_installation(
                enterprise_id=enterprise, team_id=team, is_enterprise_install=False
            )
        elif team.startswith("E"):
            found = self._store.find_installation(
                enterprise_id=team, team_id=None, is_enterprise_install=True
            ) or self._store.only_workspace_of(team)
        else:
            found = self._store.find_installation(
                enterprise_id=None, team_id=team, is_enterprise_install=False
            )
        if found is None:
            return None
        renewed = self._refresh.refreshed(found)
        return (renewed or found).bot_token


@dataclass(frozen=True)
class Installed:
    """Installed over OAuth: the installations and OAuth states (`table`), the installation
    store Bolt reads, the one way their tokens are renewed, and the token of a workspace
    outside a request. Made once, by bot.runtime.installed_over."""

    table: Installations
    refresh: TokenRefresh

    @property
    def store(self) -> ReflectInstallationStore:
        return self.refresh.store

    @property
    def tokens(self) -> InstallationTokens:
        return InstallationTokens(self.refresh)
