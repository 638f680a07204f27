"""Delivering the outbox against the fake Slack: each reply posted once with its delivery key,
even when Slack's answer is lost; refusals dropped; an unreachable Slack tried again later;
and the replies of a DM written with the answer, before the ack."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine.people import Person
from bot.slack.delivery.outbox import METADATA_TYPE, OutboxSender
from bot.slack.parts import Parts
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, make_bot, talking_to

ROBIN = Person("T1:U1")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack()
    server.clock = lambda: dt.datetime.now(dt.UTC)  # message ts in real time, as Slack's
    server.start()
    server.add_user("U1", first_name="Robin")
    yield server
    server.stop()


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    with make_bot(fake, tmp_path, timeout=0.5) as made:
        yield made


@pytest.fixture
def parts(bot: Bot) -> Parts:
    assert bot.parts is not None
    return bot.parts


def queue(parts: Parts, *texts: str, thread_ts: str | None = None, **where: Any) -> list[str]:
    calls = [
        {
            "kind": "post",
            "channel": where.get("channel"),
            "user": where.get("user", "U1"),
            "thread_ts": thread_ts,
            "text": text,
            "blocks": [],
        }
        for text in texts
    ]
    with parts.store.writing():
        return parts.outbox.add(ROBIN, calls, now=parts.clock())


def delivered(fake: FakeSlack) -> list[str]:
    return [
        m["metadata"]["event_payload"]["delivery"]
        for m in fake.messages(fake.dm_of("U1"))
        if (m.get("metadata") or {}).get("event_type") == METADATA_TYPE
    ]


def test_replies_are_posted_in_order_with_their_delivery_keys(
    fake: FakeSlack, parts: Parts
) -> None:
    keys = queue(parts, "one", "two", "three")
    assert OutboxSender(parts).drain(ROBIN) == 3
    assert delivered(fake) == keys
    assert [m["text"] for m in fake.messages(fake.dm_of("U1"))] == ["one", "two", "three"]
    assert parts.outbox.pending() == 0


def test_a_post_whose_answer_was_lost_is_found_not_posted_again(
    fake: FakeSlack, parts: Parts
) -> None:
    keys = queue(parts, "one")
    fake.fail("chat.postMessage", drop=True, processed=True)  # taken, but no answer came
    OutboxSender(parts).drain(ROBIN)
    assert delivered(fake) == keys
    assert len(fake.calls("chat.postMessage")) == 1
    assert fake.calls("conversations.history")


def test_a_server_error_that_posted_nothing_is_posted_once_after_looking(
    fake: FakeSlack, parts: Parts
) -> None:
    keys = queue(parts, "one")
    fake.fail("chat.postMessage", status=500)
    OutboxSender(parts).drain(ROBIN)
    assert delivered(fake) == keys
    assert len(fake.calls("chat.postMessage")) == 2


def test_a_refusal_drops_the_row_and_the_next_goes_on(fake: FakeSlack, parts: Parts) -> None:
    queue(parts, "one", channel="C404", user=None)
    keys = queue(parts, "two")
    OutboxSender(parts).drain(ROBIN)
    assert delivered(fake) == keys
    assert parts.outbox.pending() == 0


def test_when_slack_cannot_be_reached_the_row_waits_its_turn(fake: FakeSlack, parts: Parts) -> None:
    queue(parts, "one", "two")
    fake.fail("chat.postMessage", status=500)
    fake.fail("conversations.history", status=500, times=4)  # the client's retries too
    OutboxSender(parts).drain(ROBIN)
    assert delivered(fake) == [] and parts.outbox.pending() == 2
    # Its later rows wait behind it; once Slack is back, both go, in order.
    later = parts.clock() + dt.timedelta(minutes=5)
    assert parts.outbox.claim(now=parts.clock(), person=ROBIN) is None
    parts.clock = lambda: later
    assert OutboxSender(parts).drain(ROBIN) == 2
    assert [m["text"] for m in fake.messages(fake.dm_of("U1"))] == ["one", "two"]


def test_a_reply_in_a_thread_is_looked_for_in_the_thread(fake: FakeSlack, parts: Parts) -> None:
    parent = fake.add_message(fake.dm_of("U1"), user="U1", text="in a thread")
    keys = queue(parts, "one", channel=fake.dm_of("U1"), thread_ts=parent["ts"])
    fake.fail("chat.postMessage", drop=True, processed=True)
    OutboxSender(parts).drain(ROBIN)
    assert delivered(fake) == keys
    assert fake.calls("conversations.replies")


def test_a_dms_replies_are_in_the_outbox_when_the_ack_goes(
    fake: FakeSlack, bot: Bot, parts: Parts
) -> None:
    """Between the ack and the post, the replies are already committed with the answer."""
    seen: list[int] = []
    real_submit = bot.lanes.submit

    def submit(key: str, job: Any) -> None:
        seen.append(parts.outbox.pending(ROBIN))
        real_submit(key, job)

    bot.lanes.submit = submit  # type: ignore[method-assign]
    with talking_to(bot) as slack:
        Leader(user_id="U1", slack=slack, fake=fake, bot=bot).says("hard day")
    assert seen and seen[0] >= 1
    assert parts.outbox.pending() == 0 and len(delivered(fake)) == seen[0]
