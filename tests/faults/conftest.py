from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.chaos import ChaosSlack, Dice, chaos_bot
from tests.slack.harness import Bot, Served, SlackSide


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
def bot(chaos: ChaosSlack, tmp_path: Path) -> Iterator[Bot]:
    made = chaos_bot(chaos, tmp_path)
    yield made
    made.lanes.close()
    made.store.close()


@pytest.fixture
def slack(bot: Bot) -> Iterator[SlackSide]:
    served = Served(bot.app)
    side = SlackSide(url=served.url)
    yield side
    side.http.close()
    served.close()
