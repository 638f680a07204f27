from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.chaos import CLIENT_TIMEOUT, ChaosSlack, Dice
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, SlackSide, make_bot, talking_to


@pytest.fixture
def dice() -> Dice:
    return Dice(seed=20261122, rate=0.3)


@pytest.fixture
def chaos(dice: Dice) -> Iterator[ChaosSlack]:
    server = ChaosSlack(dice)
    server.start()
    for number in range(1, 9):
        server.add_user(f"U{number}", first_name=f"Leader{number}")
    yield server
    server.stop()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake Slack that does not fail, with one person in it."""
    server = FakeSlack().start()
    server.add_user("U1", first_name="Robin")
    yield server
    server.stop()


@pytest.fixture
def bot(chaos: ChaosSlack, tmp_path: Path) -> Iterator[Bot]:
    with make_bot(chaos, tmp_path, timeout=CLIENT_TIMEOUT) as made:
        yield made


@pytest.fixture
def slack(bot: Bot) -> Iterator[SlackSide]:
    with talking_to(bot) as side:
        yield side
