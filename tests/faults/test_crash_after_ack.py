"""A crash after the ack, at every step of a flow: the process dies once the answer is stored
and acked, before or while the reply is posted; a restarted process delivers what was left.
The next question always arrives, once, and the reflection is kept whole.

Where the "process" dies:
- `no_lane`: right after the ack, before anything is posted (its lane never runs);
- `claimed`: the reply's outbox row is claimed (leased), nothing posted;
- `posted`: Slack took the post, the row was not yet deleted (the restart must find the post
  in the DM by its delivery key rather than post it again).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.engine.people import Person
from bot.slack.delivery.outbox import OutboxSender, OutboxSweeper
from bot.store.outbox import LEASE
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.faults.crash import LostLanes, delivery_keys
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, make_bot, talking_to

MODES = ("no_lane", "claimed", "posted")
SECRET = b"s" * 32


class Crashed(Exception):
    """The process died here (raised on the lane: the dead process does nothing more)."""


class SharedClock:
    """One clock for the bot and the fake Slack, moved on past a lease at each restart."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now

    def restart(self) -> None:
        self.now += LEASE + dt.timedelta(seconds=1)


Opener = Callable[[], Any]


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Opener:
    return lambda: SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)


def start_process(fake: FakeSlack, tmp_path: Path, clock: SharedClock, mode: str | None) -> Bot:
    """A bot process on the one database, which dies (once) at `mode` after an ack."""
    store = OPEN[0]()
    lanes = LostLanes() if mode == "no_lane" else None
    bot = make_bot(fake, tmp_path, store=store, clock=clock, lanes=lanes)
    assert bot.parts is not None
    if mode in ("claimed", "posted"):

        def crash(step: str) -> None:
            if step == mode:
                raise Crashed(step)

        bot.parts.checkpoint = crash
    return bot


def restart(fake: FakeSlack, tmp_path: Path, clock: SharedClock, dead: Bot) -> Bot:
    """The dead process is gone; a new one starts and delivers what was left (as `reflect run`
    does at start)."""
    dead.lanes.wait_idle()
    dead.store.close()
    clock.restart()
    bot = make_bot(fake, tmp_path, store=OPEN[0](), clock=clock)
    assert bot.parts is not None
    OutboxSweeper(OutboxSender(bot.parts)).run_once()
    return bot


def asked(fake: FakeSlack, step_id: str) -> int:
    """How many messages in the DM ask this step's question."""
    return sum(
        1
        for message in fake.messages(fake.dm_of("U1"))
        if any(
            str(block.get("block_id", "")).endswith(f"|hard-day|{step_id}")
            for block in message.get("blocks") or []
        )
    )


def clickable(fake: FakeSlack, step_id: str) -> bool:
    """Whether a message in the DM still offers this step's buttons."""
    return any(
        block.get("type") == "actions" and str(block.get("block_id", "")).endswith(f"|{step_id}")
        for message in fake.messages(fake.dm_of("U1"))
        for block in message.get("blocks") or []
    )


def answer(leader: Leader, question: Any) -> None:
    """Click a choice or scale question's button (its buttons then give way to the answer,
    through the outbox too); type anything else."""
    if question.step_kind in ("choice", "scale", "follow_up") and question.choices:
        leader.clicks(question.choices[0].value)
    elif question.step_kind == "scale":
        leader.clicks(str(question.scale.min))
    elif question.step_kind in ("multi", "follow_up"):
        leader.says("1")
    elif question.step_kind == "scale":
        leader.says(str(question.scale.max))
    else:
        leader.says(f"An answer to {question.step_id}")


#: How a process opens the store (set by each test: the same database every time).
OPEN: list[Opener] = []


def walk_with_crashes(
    fake: FakeSlack, tmp_path: Path, modes: Sequence[str], *, store: Opener
) -> list[str]:
    """Start hard-day, then answer each question in a process that dies after the ack (at
    `modes[n % len(modes)]` for the n-th answer), restarting each time. Returns the steps."""
    OPEN[:] = [store]
    clock = SharedClock()
    fake.clock = clock
    person = Person("T1:U1")
    bot = start_process(fake, tmp_path, clock, None)
    with talking_to(bot) as slack:
        Leader(user_id="U1", slack=slack, fake=fake, bot=bot).says("hard-day")
    walked: list[str] = []
    for n in range(30):
        question = bot.conversations.current(person)
        if question is None:
            break
        assert asked(fake, question.step_id) == 1, (modes, question.step_id)
        walked.append(question.step_id)
        bot.close()
        bot = start_process(fake, tmp_path, clock, modes[n % len(modes)])
        with talking_to(bot) as slack:
            answer(Leader(user_id="U1", slack=slack, fake=fake, bot=bot), question)
        bot = restart(fake, tmp_path, clock, bot)
        assert bot.parts is not None and bot.parts.outbox.pending() == 0
        if question.step_kind in ("choice", "scale"):  # clicked
            assert not clickable(fake, question.step_id), "the answered question kept its buttons"
    assert bot.conversations.current(person) is None, "the flow did not end"
    (kept,) = bot.store.reflections(person, limit=None)
    assert kept.flow_id == "hard-day"
    bot.close()
    # No step asked twice, and every reply posted once: no delivery key twice in the DM.
    assert len(walked) >= 6 and len(set(walked)) == len(walked)
    keys = delivery_keys(fake)
    assert keys and len(keys) == len(set(keys))
    return walked


def test_after_a_crash_at_every_step_the_next_question_arrives_once(
    fake: FakeSlack, tmp_path: Path, sqlite_file: Opener
) -> None:
    """Each answer in a process that dies after its ack, where it dies taking turns."""
    walk_with_crashes(fake, tmp_path, MODES, store=sqlite_file)


@pytest.mark.bench
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("mode", MODES)
def test_every_step_crashing_the_same_way(
    fake: FakeSlack, tmp_path: Path, mode: str, backend: str, request: pytest.FixtureRequest
) -> None:
    """The whole matrix: each way of dying at every step, on each store."""
    if backend == "postgres":
        urls: PgUrls = request.getfixturevalue("pg_urls")
        opener: Opener = lambda: PostgresStore.open(  # noqa: E731
            urls.url, keys_url=urls.keys_url, secret=SECRET, pool_size=3
        )
    else:
        opener = request.getfixturevalue("sqlite_file")
    started = time.perf_counter()
    walked = walk_with_crashes(fake, tmp_path, [mode], store=opener)
    print(
        f"\ncrash-after-ack {backend} {mode}: {len(walked)} crashes, every next question"
        f" once, {time.perf_counter() - started:.1f} s"
    )
