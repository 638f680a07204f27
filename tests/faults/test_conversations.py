"""Whole conversations while Slack answers 429, 500, late (a timeout) or drops the connection
at random (seeded), and redelivers events: every leader finishes, every answer is stored once,
and the bot never answers Slack with a 5xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.engine.reflections import StoredReflection
from tests.faults.chaos import ChaosSlack, Dice
from tests.faults.walks import Walk
from tests.slack.harness import Bot, Leader, SlackSide, library


def walk_everyone(
    *, leaders: int, chaos: ChaosSlack, bot: Bot, slack: SlackSide, seed: int
) -> list[tuple[Walk, list[StoredReflection]]]:
    walks = [
        Walk(Leader(user_id=f"U{n}", slack=slack, fake=chaos, bot=bot), seed=seed + n)
        for n in range(1, leaders + 1)
    ]
    with ThreadPoolExecutor(max_workers=leaders) as pool:
        finished = list(pool.map(lambda walk: walk.finish(), walks))
    return list(zip(walks, finished, strict=True))


def check(walk: Walk, reflections: list[StoredReflection], bot: Bot) -> None:
    # The bot acked everything: Slack's failures never became a 5xx (or any non-200).
    assert set(walk.statuses) == {200}
    # One reflection, exactly: redelivered events were not taken as further answers.
    assert len(reflections) == 1
    assert bot.conversations.in_progress(walk.leader.person) is None
    kept = {answer.step_id: answer.value for answer in reflections[0].answers}
    flow = library().get("hard-day")
    assert flow is not None
    for step_id, text in walk.typed.items():
        if flow.step(step_id).store != "yes":
            continue
        if flow.step(step_id).kind == "text":
            assert kept[step_id] == text
        else:
            assert step_id in kept
    for step_id, value in walk.clicked.items():
        if flow.step(step_id).store == "yes":
            assert str(kept[step_id]) == str(value)
    # Each answer given once: no text step was recorded with anything but its own answer.
    texts = [answer.value for answer in reflections[0].answers if answer.kind == "text"]
    assert len(texts) == len(set(texts))


def test_four_leaders_finish_while_slack_fails_at_random(
    chaos: ChaosSlack, bot: Bot, slack: SlackSide, dice: Dice
) -> None:
    results = walk_everyone(leaders=4, chaos=chaos, bot=bot, slack=slack, seed=1)
    for walk, reflections in results:
        check(walk, reflections, bot)
    # The run really met Slack's failure modes (else this test proves nothing).
    assert sum(dice.drawn.values()) >= 10
    assert len(dice.drawn) >= 4, dice.drawn
    assert sum(walk.redelivered for walk, _ in results) >= 3
    # And the retry handlers waited 429s out and backed off (no real sleeping in tests).
    assert bot.sleeps


@pytest.mark.bench
def test_eight_leaders_finish_under_heavier_failures(
    chaos: ChaosSlack, bot: Bot, slack: SlackSide, dice: Dice
) -> None:
    dice.rate = 0.5
    dice.most_timeouts = 30
    results = walk_everyone(leaders=8, chaos=chaos, bot=bot, slack=slack, seed=100)
    for walk, reflections in results:
        check(walk, reflections, bot)
    assert len(dice.drawn) == 5, dice.drawn
