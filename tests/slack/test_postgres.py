"""Two bot processes on one PostgreSQL database, each the real Bolt app behind its own HTTP
server, one fake Slack: a message Slack delivers to both is answered once, and a person whose
messages alternate between them walks a flow to its end as with one process."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.pg_fixtures import PgUrls
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Leader, texts
from tests.slack.processes import Process, processes_on


@pytest.fixture
def processes(fake: FakeSlack, tmp_path: Path, pg_urls: PgUrls) -> Iterator[list[Process]]:
    with processes_on(fake, tmp_path, pg_urls) as start:
        yield [start(), start()]


def _settle(processes: list[Process]) -> None:
    for process in processes:
        process.bot.settle()


def test_an_event_delivered_to_two_processes_is_answered_once(
    fake: FakeSlack, processes: list[Process]
) -> None:
    first, second = processes
    sam = Leader(user_id="U1", slack=first.slack, fake=fake, bot=first.bot)
    alex = Leader(user_id="U2", slack=first.slack, fake=fake, bot=first.bot)
    alex.says("hard day")  # delivered once: what one answer looks like
    once = len(alex.messages())
    assert once >= 1

    body = payloads.event_callback(payloads.message_im("U1", "hard day"), event_id="EvTWICE")
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(
            pool.map(
                lambda job: job[0].slack.envelope(body, retry_num=job[1]),
                [(first, None), (second, 1)],
            )
        )
    assert [r.status_code for r in responses] == [200, 200]
    _settle(processes)
    second.slack.envelope(body, retry_num=2)  # and a later retry, to either process
    _settle(processes)
    assert len(sam.messages()) == once
    assert first.bot.conversations.current(sam.person) is not None


def test_a_flow_whose_messages_alternate_between_processes_ends_once(
    fake: FakeSlack, processes: list[Process]
) -> None:
    leaders = [
        Leader(user_id="U1", slack=process.slack, fake=fake, bot=process.bot)
        for process in processes
    ]
    leaders[0].says("hard day")
    answered: list[str] = []
    for turn in range(1, 31):
        leader = leaders[turn % 2]
        question = leader.bot.conversations.current(leader.person)
        if question is None:
            break
        answered.append(question.step_id)
        if question.step_kind in ("choice", "multi"):
            leader.says("1")
        elif question.step_kind == "scale":
            leader.says(str(question.scale.max))  # type: ignore[union-attr]
        else:
            leader.says(f"An answer to {question.step_id}")
        _settle(processes)
    else:
        raise AssertionError("the flow did not end")
    assert len(answered) >= 3 and len(set(answered)) == len(answered)  # no step asked twice
    for process in processes:
        assert len(process.bot.store.reflections(leaders[0].person)) == 1
    summaries = [m for m in leaders[0].messages() if "Your reflection:" in texts(m)]
    assert len(summaries) == 1


def test_weekly_reminders_stay_off_on_postgres_without_an_error(
    fake: FakeSlack, processes: list[Process]
) -> None:
    first = processes[0]
    response = first.slack.command("U1", "weekly status")  # reads the teams table
    assert response.status_code == 200
    first.bot.settle()
