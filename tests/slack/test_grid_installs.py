"""Enterprise Grid over OAuth: an organisation-wide install serves every workspace of the
organisation with one token; a workspace that joins an organisation after its people started
keeps their history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.engine.people import Person
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Bot, SlackSide
from tests.slack.installs import Member, install, oauth_bot
from tests.slack.installs import reflect_as as reflect

GRID = "EGRIDORG01"
WARD, CLINIC = "TGRIDWARD1", "TGRIDCLIN1"
SAM, JO = "USAMGRID01", "UJOGRID001"


@pytest.fixture
def people() -> tuple[User, ...]:
    return (User(SAM, WARD, first_name="Sam"), User(JO, CLINIC, first_name="Jo"))


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    with oauth_bot(fake, tmp_path) as made:
        yield made


def test_an_organisation_wide_install_serves_each_workspace_with_its_token(
    fake: FakeSlack, bot: Bot, browser: httpx.Client, slack: SlackSide
) -> None:
    fake.enterprise_of |= {WARD: GRID, CLINIC: GRID}
    assert (
        install(browser, fake, None, enterprise_id=GRID, org_wide=True, installer=SAM).status_code
        == 200
    )
    token = fake.tokens_of(GRID)[-1]
    for user, team in ((SAM, WARD), (JO, CLINIC)):
        someone = Member(
            user, team, enterprise_id=GRID, org_wide=True, slack=slack, fake=fake, bot=bot
        )
        reflect(someone)
        assert len(bot.store.reflections(someone.person)) == 1
        posts = [c for c in fake.calls("chat.postMessage") if c.args["channel"] == someone.dm]
        assert posts and {c.token for c in posts} == {token}
    # Both are kept under the organisation's key: uninstalling it erases both.
    bot.store.erase_organisation(GRID)
    assert bot.store.reflections(Person(id=f"{GRID}:{SAM}")) == []
    assert bot.store.reflections(Person(id=f"{GRID}:{JO}")) == []


def test_a_workspace_that_joins_an_organisation_keeps_its_peoples_history(
    fake: FakeSlack, bot: Bot, browser: httpx.Client, slack: SlackSide
) -> None:
    assert install(browser, fake, WARD, installer=SAM).status_code == 200
    before = Member(SAM, WARD, slack=slack, fake=fake, bot=bot)
    reflect(before)
    # The workspace moves into a Grid organisation: events now name the organisation too,
    # and the workspace's own installation still serves it.
    fake.enterprise_of[WARD] = GRID
    after = Member(SAM, WARD, enterprise_id=GRID, slack=slack, fake=fake, bot=bot)
    after.person = before.person  # the store keeps knowing Sam by the workspace id
    reflect(after)
    assert len(bot.store.reflections(before.person)) == 2
    assert bot.store.reflections(Person(id=f"{GRID}:{SAM}")) == []
