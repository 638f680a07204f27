"""Bolt's OAuth stores on Reflect's own database: `ReflectInstallationStore` (slack_sdk's
InstallationStore) and `ReflectStateStore` (its OAuthStateStore), over bot.store.installations.

An installation belongs to a workspace ("team:T…"), or to a whole Enterprise Grid organisation
for an org-wide install ("enterprise:E…"). A workspace installed on its own that later joins a
Grid organisation is still found by its team id: events then name the organisation too, and
the lookup falls back from the organisation to the workspace.

Enterprise Grid, when installs change hands:
- An organisation-wide install takes over from the workspace installs of its organisation:
  their people move under the organisation's key (their pseudonyms, the organisation's id and
  the person's, stay the same, and so does their history; an uninstall of the organisation
  then erases them), and the workspace installs are deleted, so that their tokens are not
  used again: the organisation's token serves those workspaces. Their own settings go too
  (the organisation's apply to them now).
- The other way (a workspace installs on its own while, or after, the organisation's install
  goes), each person moves under the workspace's key the first time they are served through
  it (the stores' `data_key_under`): whoever comes back within the organisation's grace
  period keeps their history.
- `team_access_revoked` / `team_access_granted`: an organisation-wide install loses (or gets
  back) some of its organisation's workspaces. Their teams are kept on the installation
  (`revoked_teams`): a request from a revoked workspace is dropped (bot.slack.oauth) until
  access is granted again, and Slack refuses the organisation's token there. Its people's
  data stays: it is the organisation's, which is still installed; an uninstall erases it.

Saving an installation also tells the organisation's standing (`Organisations.reinstalled`):
an organisation that uninstalled and comes back starts clean.

Tokens are renewed, and found outside a request, by bot.slack.tokens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterator
from logging import Logger
from typing import Any, Protocol

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.slack.identity import org_of
from bot.store.installations import Installations

log = logging.getLogger(__name__)

#: How long an "Add to Slack" link stays usable.
STATE_LIFETIME = dt.timedelta(minutes=10)
#: Where an organisation-wide installation keeps the workspaces it lost access to.
REVOKED = "reflect_teams_revoked"


class Reinstalling(Protocol):
    def reinstalled(self, org_id: str) -> None: ...

    def move_people(self, source_id: str, target_id: str) -> int: ...


def _key(*, enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> str | None:
    if org_wide and enterprise_id:
        return f"enterprise:{enterprise_id}"
    if team_id:
        return f"team:{team_id}"
    return f"enterprise:{enterprise_id}" if enterprise_id else None


def _plain(name: str, value: Any) -> Any:
    """JSON for a field of slack_sdk's Installation: times as the epoch numbers it takes back
    (whole seconds for expiry times, as it insists)."""
    if not isinstance(value, dt.datetime):
        return value
    return int(value.timestamp()) if name.endswith("expires_at") else value.timestamp()


class ReflectInstallationStore(InstallationStore):
    def __init__(
        self,
        *,
        installations: Installations,
        organisations: Reinstalling,
        forget_settings: Callable[[str], None] | None = None,
    ) -> None:
        self._installations = installations
        self._organisations = organisations
        #: Drops an organisation's own settings (a workspace taken over by its organisation).
        self._forget_settings = forget_settings

    @property
    def logger(self) -> Logger:
        return log

    def save(self, installation: Installation) -> None:
        key = _key_of(installation)
        org = org_of(
            enterprise_id=installation.enterprise_id,
            team_id=installation.team_id,
            org_wide=installation.is_enterprise_install,
        )
        earlier = self._installations.find(key)
        if earlier is None and org is not None:  # a new install, or one after an uninstall
            self._organisations.reinstalled(org)
        record = {
            name: _plain(name, value) for name, value in installation.to_dict_for_copying().items()
        }
        if earlier is not None and earlier.get(REVOKED):
            record[REVOKED] = earlier[REVOKED]
        self._installations.save(key, record, installer=installation.user_id)
        log.info("installation saved (%s)", "organisation" if key[0] == "e" else "workspace")
        if earlier is None and installation.is_enterprise_install and installation.enterprise_id:
            self._take_over(installation.enterprise_id)

    def _take_over(self, enterprise_id: str) -> None:
        """An organisation-wide install takes over its organisation's workspace installs."""
        for record in self._installations.everything():
            team = record.get("team_id")
            if record.get("enterprise_id") != enterprise_id or record.get("is_enterprise_install"):
                continue
            if team:
                moved = self._organisations.move_people(team, enterprise_id)
                self._installations.delete(f"team:{team}")
                if self._forget_settings is not None:
                    self._forget_settings(team)
                log.info(
                    "a workspace install was taken over by its organisation's (%d people)", moved
                )

    def only_workspace_of(self, enterprise_id: str) -> Installation | None:
        """The installation of the one workspace of a Grid organisation installed on its own,
        if exactly one is."""
        found = [
            record
            for record in self._installations.everything()
            if record.get("enterprise_id") == enterprise_id
            and not record.get("is_enterprise_install")
        ]
        return _installation(found[0]) if len(found) == 1 else None

    def revoked_teams(self, enterprise_id: str) -> frozenset[str]:
        """The workspaces an organisation-wide install has lost access to."""
        record = self._installations.find(f"enterprise:{enterprise_id}")
        return frozenset(record.get(REVOKED) or ()) if record is not None else frozenset()

    def team_access(self, enterprise_id: str, team_ids: list[str], *, granted: bool) -> None:
        """`team_access_revoked` / `team_access_granted` for an organisation-wide install (under
        its lock, so that a token renewed meanwhile is not lost)."""
        key = f"enterprise:{enterprise_id}"
        with self._installations.refreshing(key):
            record = self._installations.find(key)
            if record is None:
                return
            teams = set(record.get(REVOKED) or ())
            teams = teams - set(team_ids) if granted else teams | set(team_ids)
            record[REVOKED] = sorted(teams)
            self._installations.save(key, record, installer=record.get("user_id"))

    def save_bot(self, bot: Bot) -> None:
        found = self._find(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            org_wide=bot.is_enterprise_install,
        )
        if found is None:
            return
        found.bot_token = bot.bot_token
        found.bot_refresh_token = bot.bot_refresh_token
        found.bot_token_expires_at = bot.bot_token_expires_at
        self.save(found)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = self._find(
            enterprise_id=enterprise_id, team_id=team_id, org_wide=is_enterprise_install
        )
        if found is None or (user_id is not None and found.user_id != user_id):
            return None
        return found

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = self._find(
            enterprise_id=enterprise_id, team_id=team_id, org_wide=is_enterprise_install
        )
        return found.to_bot() if found is not None and found.bot_token else None

    def _find(
        self, *, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
    ) -> Installation | None:
        """The workspace's own installation, else its Grid organisation's."""
        keys = [_key(enterprise_id=enterprise_id, team_id=team_id, org_wide=org_wide)]
        if enterprise_id:
            keys.append(f"enterprise:{enterprise_id}")
        if team_id:
            keys.append(f"team:{team_id}")
        for key in dict.fromkeys(k for k in keys if k):
            record = self._installations.find(key)
            if record is not None:
                return _installation(record)
        return None

    @contextlib.contextmanager
    def refreshing(self, installation: Installation) -> Iterator[Installation | None]:
        """The installation as saved now, read under its lock (held across processes until the
        block ends); None if it is gone (uninstalled meanwhile)."""
        key = _key_of(installation)
        with self._installations.refreshing(key):
            record = self._installations.find(key)
            yield _installation(record) if record is not None else None

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is not None:
            return  # Reflect keeps no user tokens: a person's revoked token changes nothing
        found = self._find(enterprise_id=enterprise_id, team_id=team_id, org_wide=False)
        if found is None:
            return
        key = _key(
            enterprise_id=found.enterprise_id,
            team_id=found.team_id,
            org_wide=found.is_enterprise_install,
        )
        if key is not None:
            self._installations.delete(key)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)


def _installation(record: dict[str, Any]) -> Installation:
    return Installation(**{name: value for name, value in record.items() if name != REVOKED})


def _key_of(installation: Installation | Bot) -> str:
    key = _key(
        enterprise_id=installation.enterprise_id,
        team_id=installation.team_id,
        org_wide=installation.is_enterprise_install,
    )
    if key is None:
        raise ValueError("an installation without a team or an organisation")
    return key


class ReflectStateStore(OAuthStateStore):
    """OAuth states, each usable once within STATE_LIFETIME."""

    def __init__(self, *, installations: Installations) -> None:
        self._installations = installations

    @property
    def logger(self) -> Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        self._installations.issue_state(state, expires_in=STATE_LIFETIME)
        return state

    def consume(self, state: str) -> bool:
        return bool(state) and self._installations.consume_state(state)
