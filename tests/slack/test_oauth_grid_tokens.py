"""Enterprise Grid with no organisation-wide install, whose workspaces each installed Reflect
on their own: outside a request, each thing is said with the token of the installation it was
set up through, although its people's ids all begin with the organisation's.

- A team lead in one workspace switches the weekly reminders on: the scheduler reads the
  team and reminds it with that workspace's token.
- A person in the other workspace, whose reply was left in the outbox by a process that died
  after the ack, gets it after a restart, posted with their own workspace's token.

The fake Slack refuses a workspace's token for someone of another workspace, and a token of
neither is refused outright, so the wrong token (or none) sends nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.runtime import build_weekly
from bot.slack.delivery.outbox import OutboxSender, OutboxSweeper
from bot.slack.delivery.reminder_api import WebReminderSlack
from bot.store.outbox import outbox_of
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.store.weekly.teams import Teams
from tests.faults.crash import LostLanes
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Bot, Served, SlackSide
from tests.slack.installs import Member, install, oauth_bot

GRID = "EGRIDTOK01"
WARD, CLINIC = "TGRIDTOKW1", "TGRIDTOKC1"
LEAD, SAM, JO = "ULEADTOK01", "USAMTOK001", "UJOTOK0001"
CHANNEL = "CWARDTOK01"
SECRET = b"s" * 32
LONDON = ZoneInfo("Europe/London")

Opener = Callable[[], Any]


@pytest.fixture
def people() -> tuple[User, ...]:
    return (
        User(LEAD, WARD, first_name="Lee"),
        User(SAM, WARD, first_name="Sam"),
        User(JO, CLINIC, first_name="Jo"),
    )


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """The one database every process of a test opens."""
    if request.param == "postgres":
        urls: PgUrls = request.getfixturevalue("pg_urls")
        return lambda: PostgresStore.open(
            urls.url, keys_url=urls.keys_url, secret=SECRET, pool_size=4
        )
    return lambda: SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)


class Process:
    """One `reflect run --http` process, served over loopback."""

    def __init__(self, bot: Bot, fake: FakeSlack) -> None:
        self.bot = bot
        self.served = Served(bot.app)
        self.slack = SlackSide(url=self.served.url, response_url=f"{fake.url}respond")
        self.browser = httpx.Client(base_url=self.served.url)

    def close(self) -> None:
        self.browser.close()
        self.slack.http.close()
        self.served.close()
        self.bot.close()


@contextlib.contextmanager
def process(fake: FakeSlack, tmp_path: Path, opener: Opener, **settings: Any) -> Iterator[Process]:
    running = Process(oauth_bot(fake, tmp_path, store=opener(), weekly=True, **settings), fake)
    try:
        yield running
    finally:
        running.close()


def next_friday_afternoon() -> dt.datetime:
    """Friday 16:05 in London, after tomorrow (the reminders' default day and time)."""
    date = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    while date.weekday() != 4:
        date += dt.timedelta(days=1)
    return dt.datetime.combine(date, dt.time(16, 5), tzinfo=LONDON).astimezone(dt.UTC)


def posted_to(fake: FakeSlack, user: str, since: int = 0) -> set[str | None]:
    """The tokens of the posts that reached `user`'s DM."""
    return {
        call.token
        for call in fake.calls("chat.postMessage")[since:]
        if call.args["channel"] in (user, fake.dm_of(user))
    }


def delivered(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    return fake.messages(fake.dm_of(user))


def test_each_workspace_of_a_grid_organisation_is_spoken_to_with_its_own_token(
    fake: FakeSlack, tmp_path: Path, opener: Opener
) -> None:
    fake.enterprise_of |= {WARD: GRID, CLINIC: GRID}
    fake.add_channel(CHANNEL, members=[LEAD, SAM, fake.bot_user_id], name="ward-7")

    with process(fake, tmp_path, opener) as first:
        for workspace, installer in ((WARD, LEAD), (CLINIC, JO)):
            assert (
                install(
                    first.browser, fake, workspace, enterprise_id=GRID, installer=installer
                ).status_code
                == 200
            )
        ward_token, clinic_token = fake.tokens_of(WARD)[-1], fake.tokens_of(CLINIC)[-1]
        assert ward_token != clinic_token

        # The lead switches the team's reminders on, in their workspace of the organisation.
        answered = len(fake.responses())
        response = first.slack.command(
            LEAD, f"weekly on <#{CHANNEL}>", team_id=WARD, enterprise_id=GRID
        )
        assert response.status_code == 200
        first.bot.settle()
        assert len(fake.responses()) == answered + 1
        teams = Teams(first.bot.store, keyring=first.bot.store.keyring)
        (team,) = teams.active()
        assert team.workspace == GRID  # its people's ids begin with the organisation's
        assert team.installation == f"{GRID}/{WARD}"  # switched on through the ward's install

        # The scheduler, outside any request, as `reflect run` wires it.
        assert first.bot.parts is not None and first.bot.parts.token_for is not None
        built = build_weekly(
            settings=first.bot.parts.settings,
            store=first.bot.store,
            token_for=first.bot.parts.token_for,
        )
        assert built is not None
        service = built[1]
        client = service.slack(team.reach)
        assert isinstance(client, WebReminderSlack) and client.client.token == ward_token
        since = len(fake.calls("chat.postMessage"))
        report = service.runner(clock=next_friday_afternoon, sleep=lambda seconds: None).run_once()
        assert report is not None
        assert posted_to(fake, SAM, since) == {ward_token}
        assert any(
            (m.get("metadata") or {}).get("event_type") == "reflect_weekly_nudge"
            for m in delivered(fake, SAM)
        )

    # Jo, in the other workspace, writes; the process dies right after the ack.
    with process(fake, tmp_path, opener, lanes=LostLanes()) as dying:
        jo = Member(JO, CLINIC, enterprise_id=GRID, slack=dying.slack, fake=fake, bot=dying.bot)
        assert jo.says("hard day").status_code == 200
        assert outbox_of(dying.bot.store).pending() > 0
        assert delivered(fake, JO) == []

    # A new process starts and sweeps the outbox, with no request around it.
    with process(fake, tmp_path, opener) as restarted:
        assert restarted.bot.parts is not None
        since = len(fake.calls("chat.postMessage"))
        assert OutboxSweeper(OutboxSender(restarted.bot.parts)).run_once() > 0
        assert outbox_of(restarted.bot.store).pending() == 0
        assert posted_to(fake, JO, since) == {clinic_token}
        assert delivered(fake, JO)


def test_tokens_by_the_installation_recorded_and_by_the_workspace_before_it_was(
    fake: FakeSlack, tmp_path: Path, opener: Opener
) -> None:
    """`token_for` with an installation's key finds that installation; with a Grid
    organisation's id alone (rows kept before installations were), only an organisation-wide
    install or the one workspace that installed on its own; once the organisation installs
    for everyone and takes the workspace over, the workspace's key finds the organisation's."""
    fake.enterprise_of |= {WARD: GRID, CLINIC: GRID}
    with process(fake, tmp_path, opener) as running:
        assert running.bot.parts is not None and running.bot.parts.token_for is not None
        token_for = running.bot.parts.token_for
        assert (
            install(running.browser, fake, WARD, enterprise_id=GRID, installer=LEAD).status_code
            == 200
        )
        ward_token = fake.tokens_of(WARD)[-1]
        assert token_for(GRID) == ward_token  # the one workspace of it: as before
        assert (
            install(running.browser, fake, CLINIC, enterprise_id=GRID, installer=JO).status_code
            == 200
        )
        clinic_token = fake.tokens_of(CLINIC)[-1]
        assert token_for(GRID) is None  # two: which one cannot be told
        assert token_for(f"{GRID}/{WARD}") == ward_token
        assert token_for(f"{GRID}/{CLINIC}") == clinic_token
        assert token_for(CLINIC) == clinic_token
        assert token_for(f"{GRID}/TNEVERINST") is None

        assert (
            install(
                running.browser, fake, None, enterprise_id=GRID, org_wide=True, installer=LEAD
            ).status_code
            == 200
        )
        grid_token = fake.tokens_of(GRID)[-1]
        assert token_for(GRID) == grid_token
        assert token_for(f"{GRID}/{WARD}") == grid_token  # taken over
