from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, Served, SlackSide, make_bot


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    server.add_user("U1", first_name="Sam")
    server.add_user("U2", first_name="Alex")
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
def slack(served: Served) -> Iterator[SlackSide]:
    side = SlackSide(url=served.url)
    yield side
    side.http.close()


@pytest.fixture
def sam(fake: FakeSlack, bot: Bot, slack: SlackSide) -> Leader:
    return Leader(user_id="U1", slack=slack, fake=fake, bot=bot)


@pytest.fixture
def alex(fake: FakeSlack, bot: Bot, slack: SlackSide) -> Leader:
    return Leader(user_id="U2", slack=slack, fake=fake, bot=bot)
