from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.chaos import CLIENT_TIMEOUT, ChaosSlack, Dice
from tests.slack.fake_slack import User
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
def people() -> tuple[User, ...]:
    """Who is in the fake Slack (`fake`, which does not fail): one person."""
    return (User("U1", first_name="Robin"),)


@pytest.fixture
def bot(chaos: ChaosSlack, tmp_path: Path) -> Iterator[Bot]:
    with make_bot(chaos, tmp_path, timeout=CLIENT_TIMEOUT) as made:
        yield made


@pytest.fixture
def slack(bot: Bot) -> Iterator[SlackSide]:
    with talking_to(bot) as side:
        yield side
