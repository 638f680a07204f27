"""Enterprise Grid when installs change hands, against the fake Slack over signed HTTP:

- a workspace install replaced by an organisation-wide install, and back: people keep their
  history (their pseudonyms stay), their keys follow the installation that serves them (so an
  uninstall erases exactly what it should), and a replaced installation's token is not used;
- `team_access_revoked` / `team_access_granted`: a workspace an organisation-wide install no
  longer reaches gets nothing, and is served again, with its history, once access returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.store.organisations import OrganisationSettings
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Bot, SlackSide
from tests.slack.installs import Member, install, oauth_bot
from tests.slack.installs import reflect_as as reflect

GRID = "EGRIDCHG01"
WARD, CLINIC = "TGRIDCHGW1", "TGRIDCHGC1"
SAM, JO = "USAMCHG001", "UJOCHG0001"


@pytest.fixture
def people() -> tuple[User, ...]:
    return (User(SAM, WARD, first_name="Sam"), User(JO, CLINIC, first_name="Jo"))


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    fake.enterprise_of |= {WARD: GRID, CLINIC: GRID}
    with oauth_bot(fake, tmp_path) as made:
        yield made


def _org_event(slack: SlackSide, event: dict[str, Any]) -> httpx.Response:
    """An event about the organisation-wide install itself (no workspace of its own)."""
    body = payloads.event_callback(event, team_id=GRID)
    body |= {"team_id": None, "enterprise_id": GRID, "is_enterprise_install": True}
    body["authorizations"] = [
        {"enterprise_id": GRID, "team_id": None, "is_bot": True, "is_enterprise_install": True}
    ]
    return slack.envelope(body)


def _posted_with(fake: FakeSlack, someone: Member, since: int) -> set[str | None]:
    posts = fake.calls("chat.postMessage")[since:]
    return {c.token for c in posts if c.args["channel"] == someone.dm}


def test_a_workspace_install_replaced_by_an_organisation_wide_one_and_back(
    fake: FakeSlack, bot: Bot, browser: httpx.Client, slack: SlackSide
) -> None:
    store = bot.store
    assert install(browser, fake, WARD, enterprise_id=GRID, installer=SAM).status_code == 200
    ward_token = fake.tokens_of(WARD)[-1]
    on_its_own = Member(SAM, WARD, enterprise_id=GRID, slack=slack, fake=fake, bot=bot)
    reflect(on_its_own)
    pseudonym = store.pseudonym(on_its_own.person)
    assert store.members(WARD) == {pseudonym}
    kept = OrganisationSettings(store)
    kept.put(WARD, "retention-days", "30", at=dt.datetime.now(dt.UTC))

    # The organisation installs Reflect for all its workspaces: it takes over.
    assert (
        install(browser, fake, None, enterprise_id=GRID, org_wide=True, installer=SAM).status_code
        == 200
    )
    grid_token = fake.tokens_of(GRID)[-1]
    assert grid_token != ward_token
    assert store.members(GRID) == {pseudonym} and store.members(WARD) == set()
    found = bot.app.installation_store.find_installation(  # type: ignore[union-attr]
        enterprise_id=GRID, team_id=WARD, is_enterprise_install=False
    )
    assert found is not None and found.bot_token == grid_token  # the workspace's is gone
    assert kept.texts(WARD) == {}  # and so are its own settings: the organisation's apply
    org_wide = Member(SAM, WARD, enterprise_id=GRID, org_wide=True, slack=slack, fake=fake, bot=bot)
    assert store.pseudonym(org_wide.person) == pseudonym  # the same person
    since = len(fake.calls("chat.postMessage"))
    reflect(org_wide)
    assert _posted_with(fake, org_wide, since) == {grid_token}
    assert len(store.reflections(org_wide.person)) == 2

    # And back: the organisation-wide install goes, the workspace installs on its own again.
    fake.uninstall(GRID)
    assert _org_event(slack, {"type": "app_uninstalled"}).status_code == 200
    bot.settle()
    assert store.is_uninstalled(GRID)
    assert install(browser, fake, WARD, enterprise_id=GRID, installer=SAM).status_code == 200
    new_ward_token = fake.tokens_of(WARD)[-1]
    since = len(fake.calls("chat.postMessage"))
    reflect(on_its_own)  # within the organisation's grace period: Sam moves to the workspace
    assert _posted_with(fake, on_its_own, since) == {new_ward_token}
    assert store.members(WARD) == {pseudonym} and store.members(GRID) == set()
    # The organisation's erasure comes, and takes nothing of Sam's: Sam came back.
    store.erase_organisation(GRID)
    assert len(store.reflections(on_its_own.person)) == 3


def test_an_organisation_wide_install_uninstalled_erases_the_people_it_took_over(
    fake: FakeSlack, bot: Bot, browser: httpx.Client, slack: SlackSide
) -> None:
    """Who was taken over and never came back through another install goes with it."""
    assert install(browser, fake, WARD, enterprise_id=GRID, installer=SAM).status_code == 200
    on_its_own = Member(SAM, WARD, enterprise_id=GRID, slack=slack, fake=fake, bot=bot)
    reflect(on_its_own)
    assert (
        install(browser, fake, None, enterprise_id=GRID, org_wide=True, installer=SAM).status_code
        == 200
    )
    fake.uninstall(GRID)
    assert _org_event(slack, {"type": "app_uninstalled"}).status_code == 200
    bot.settle()
    bot.store.erase_organisation(GRID)
    assert bot.store.reflections(on_its_own.person) == []
    assert not bot.store.known(on_its_own.person)


def test_a_workspace_the_organisations_install_no_longer_reaches_gets_nothing(
    fake: FakeSlack, bot: Bot, browser: httpx.Client, slack: SlackSide
) -> None:
    assert (
        install(browser, fake, None, enterprise_id=GRID, org_wide=True, installer=SAM).status_code
        == 200
    )
    sam, jo = (
        Member(user, team, enterprise_id=GRID, org_wide=True, slack=slack, fake=fake, bot=bot)
        for user, team in ((SAM, WARD), (JO, CLINIC))
    )
    reflect(sam)
    reflect(jo)

    revoked = {"type": "team_access_revoked", "team_ids": [CLINIC]}
    assert _org_event(slack, revoked).status_code == 200
    calls = len(fake.calls())
    assert jo.says("hello").status_code == 200
    assert fake.calls()[calls:] == []  # nothing said, nothing looked up
    before = len(sam.messages())
    sam.says("hello")
    assert len(sam.messages()) > before  # the rest of the organisation is served
    assert len(bot.store.reflections(jo.person)) == 1  # kept: the organisation still is

    granted = {"type": "team_access_granted", "team_ids": [CLINIC]}
    assert _org_event(slack, granted).status_code == 200
    before = len(jo.messages())
    jo.says("hello again")
    assert len(jo.messages()) > before
    reflect(jo)
    assert len(bot.store.reflections(jo.person)) == 2


def test_outside_a_request_a_grid_workspace_installed_on_its_own_is_spoken_to_with_its_token(
    fake: FakeSlack, bot: Bot, browser: httpx.Client
) -> None:
    """Its people's ids begin with the organisation's (as the weekly reminders name the
    workspace): the organisation has no install of its own, its one installed workspace's
    token is the one; with two, which is meant cannot be told, and none is used."""
    assert install(browser, fake, WARD, enterprise_id=GRID, installer=SAM).status_code == 200
    assert bot.parts is not None and bot.parts.token_for is not None
    assert bot.parts.token_for(GRID) == fake.tokens_of(WARD)[-1]
    assert install(browser, fake, CLINIC, enterprise_id=GRID, installer=JO).status_code == 200
    assert bot.parts.token_for(GRID) is None
