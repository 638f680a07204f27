from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.slack.views.notices import AGREEMENT, TYPED_IN_DM
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket_mode import FakeSocketMode
from tests.slack.harness import Bot, Leader, Served, SlackSide, make_bot


@pytest.fixture
def socket(fake: FakeSlack) -> Iterator[FakeSocketMode]:
    """A Socket Mode server the fake Slack's apps.connections.open points at."""
    server = FakeSocketMode().start()
    fake.socket_url = server.url
    yield server
    server.stop()


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    with make_bot(fake, tmp_path) as made:
        yield made


@pytest.fixture
def served(bot: Bot) -> Iterator[Served]:
    server = Served(bot.app)
    yield server
    server.close()


@pytest.fixture
def browser(served: Served) -> Iterator[httpx.Client]:
    """A web browser at the bot's address (the install pages)."""
    with httpx.Client(base_url=served.url, timeout=10) as client:
        yield client


@pytest.fixture
def slack(served: Served) -> Iterator[SlackSide]:
    side = SlackSide(url=served.url)
    yield side
    side.http.close()


def _returning(leader: Leader) -> Leader:
    """Someone who has used Reflect before: the one-time notices (the first-use agreement,
    what typing in the DM means) are behind them. tests/slack/test_privacy_in_slack.py meets
    them as a newcomer does."""
    for notice in (AGREEMENT, TYPED_IN_DM):
        leader.bot.store.first_time(leader.person, notice)
    return leader


@pytest.fixture
def sam(fake: FakeSlack, bot: Bot, slack: SlackSide) -> Leader:
    return _returning(Leader(user_id="U1", slack=slack, fake=fake, bot=bot))


@pytest.fixture
def alex(fake: FakeSlack, bot: Bot, slack: SlackSide) -> Leader:
    return _returning(Leader(user_id="U2", slack=slack, fake=fake, bot=bot))


@pytest.fixture
def newcomer(fake: FakeSlack, bot: Bot, slack: SlackSide) -> Leader:
    fake.add_user("U3", first_name="Jo")
    return Leader(user_id="U3", slack=slack, fake=fake, bot=bot)
