"""Two Bolt apps (two bot processes: own pools, lanes and locks) on one PostgreSQL database and
one fake Slack: a replayed request reaching both is handled once; one person's messages split
between them are handled in the order sent, their replies posted in that order; and a reply
acked by a process that died before posting it is posted by the other."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine.safety import Concern
from bot.slack.delivery.outbox import OutboxSender, OutboxSweeper
from tests.faults.crash import LostLanes, asked_step, replies
from tests.pg_fixtures import PgUrls
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SECRET
from tests.slack.processes import Process, Start, processes_on
from tests.slack.signing import signed_headers


@pytest.fixture
def start(fake: FakeSlack, tmp_path: Path, pg_urls: PgUrls) -> Iterator[Start]:
    with processes_on(fake, tmp_path, pg_urls) as started:
        yield started


def test_a_replayed_request_reaching_both_processes_is_handled_once(
    fake: FakeSlack, start: Any
) -> None:
    first, second = start(), start()
    first.leader(fake).says("hard day")
    before = len(replies(fake))
    # The same signed request (same body, same signature), replayed at the other process.
    body = payloads.event_callback(payloads.message_im("U1", "An answer"), event_id="EvREPLAY")
    raw = json.dumps(body).encode()
    headers = signed_headers(SECRET, raw, content_type="application/json")
    results: list[int] = []

    def send(process: Process) -> None:
        response = process.slack.http.post("/slack/events", content=raw, headers=headers)
        results.append(response.status_code)

    threads = [threading.Thread(target=send, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in (first, second):
        process.bot.settle()
    session = first.bot.store.load_session(first.leader(fake).person)
    assert session is not None
    assert list(session.answers.values()).count("An answer") == 1
    answered = len(replies(fake)) - before
    assert answered >= 1
    # One answer's replies, not two: the second copy was refused (or dropped as a replay).
    second.leader(fake).says("help")  # and both processes still serve the person
    assert len(replies(fake)) > before + answered


def test_one_persons_messages_split_between_processes_are_handled_in_order(
    fake: FakeSlack, start: Any
) -> None:
    first, second = start(), start()
    first.leader(fake).says("hard day")
    person = first.leader(fake).person
    question = first.bot.conversations.current(person)
    assert question is not None and question.step_id == "what_happened"
    # The first process is slow with the first message (its safety screen takes a while)...
    screen = first.bot.conversations.screen

    def slow(text: str) -> Concern | None:
        time.sleep(0.4)
        return screen(text)

    first.bot.conversations.screen = slow
    sent = threading.Thread(target=lambda: first.leader(fake).says("First answer, typed first"))
    sent.start()
    time.sleep(0.15)  # ...and the second message reaches the other process meanwhile:
    second.leader(fake).says("3")  # the weight of the day, on the scale of the second step
    sent.join()
    for process in (first, second):
        process.bot.settle()
    session = second.bot.store.load_session(person)
    assert session is not None
    # Handled in the order sent: the text answered the first step, the number the second.
    assert list(session.path[:2]) == ["what_happened", "weight"]
    assert session.answers["what_happened"] == "First answer, typed first"
    assert session.answers["weight"] == 3
    # The replies came out in that order too: the second question, then the third, once each.
    asked = [asked_step(m) for m in replies(fake) if asked_step(m)]
    assert asked == ["what_happened", "weight", session.step_id]


def test_a_reply_acked_by_a_process_that_died_is_posted_by_the_other(
    fake: FakeSlack, start: Any
) -> None:
    dying, living = start(lanes=LostLanes()), start()
    dying.leader(fake).says("hard day")  # acked, stored, never posted by the dying process
    assert replies(fake) == []
    assert living.bot.parts is not None
    assert living.bot.parts.outbox.pending() >= 1
    done = OutboxSweeper(OutboxSender(living.bot.parts)).run_once()
    assert done >= 1 and living.bot.parts.outbox.pending() == 0
    question = living.bot.conversations.current(living.leader(fake).person)
    assert question is not None
    assert [asked_step(m) for m in replies(fake) if asked_step(m)] == [question.step_id]
