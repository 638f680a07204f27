"""Web API trouble: 429s waited out, 5xx retried, ok:false errors logged without ids."""

from __future__ import annotations

import logging
import time

import pytest
from slack_sdk.models.views import View

from bot.slack.delivery.gateway import web_client
from bot.slack.delivery.poster import Poster, Sent
from bot.slack.views.mrkdwn import sections
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, settings_for


def test_a_429_is_waited_out_and_the_message_arrives_once(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=1, times=1)
    sam.says("hello")
    assert len(fake.calls("chat.postMessage")) == 2
    assert len(sam.messages()) == 1
    assert bot.sleeps == [1.0], "waited as long as Retry-After said"


def test_server_errors_are_retried_after_looking_in_the_dm(sam: Leader, fake: FakeSlack) -> None:
    """A 5xx may have posted: the reply is looked for by its delivery key before each new try
    (bot.slack.delivery.outbox), and arrives once."""
    fake.fail("chat.postMessage", status=500, times=1)
    fake.fail("chat.postMessage", status=503, times=1)
    sam.says("hello")
    assert len(sam.messages()) == 1
    assert len(fake.calls("chat.postMessage")) == 3
    assert len(fake.calls("conversations.history")) == 2


def test_views_are_retried_with_backoff(bot: Bot, fake: FakeSlack) -> None:
    fake.fail("views.publish", status=500, times=1)
    fake.fail("views.publish", status=503, times=1)
    client = web_client(settings=settings_for(fake), sleep=bot.sleeps.append, backoff=0.001)
    assert Poster(client=client).publish_home(user_id="U1", view=HOME)
    first, second = bot.sleeps  # backoff 0.001 s in tests, doubling, plus up to a quarter
    assert 0.001 <= first <= 0.00125 and 0.002 <= second <= 0.0025


def test_a_dropped_connection_is_retried(sam: Leader, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", drop=True, times=1)
    sam.says("hello")
    assert len(sam.messages()) == 1


def _delivery(fake: FakeSlack, sleeps: list[float], *, timeout: float = 2) -> Poster:
    client = web_client(
        settings=settings_for(fake), sleep=sleeps.append, backoff=0.001, timeout=timeout
    )
    return Poster(client=client)


HOME = View(type="home", blocks=list(sections("home")))
BLOCKS = [block.to_dict() for block in sections("hello")]


def post(delivery: Poster, key: str = "k1") -> Sent:
    return delivery.post_once(
        channel="DU1", text="hello", blocks=BLOCKS, event_type="reflect_reply", key=key
    )


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "msg_too_long"]
)
def test_slack_errors_are_logged_by_code_without_ids(
    error: str, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    fake.fail("chat.postMessage", error=error)
    delivery = _delivery(fake, [])
    assert post(delivery) == Sent(refused=error)
    assert error in caplog.text
    assert "DU1" not in caplog.text and "U1" not in caplog.text
    assert post(delivery, "k2").ts, "a passing error does not stop later posts"


@pytest.mark.parametrize("error", ["account_inactive", "user_not_found"])
def test_deactivated_people_get_no_more_messages(error: str, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", error=error)
    delivery = _delivery(fake, [])
    assert post(delivery).refused == error
    assert post(delivery, "k2").refused
    assert len(fake.calls("chat.postMessage")) == 1, "no second attempt at a deactivated person"
    assert delivery.is_gone(channel="DU1")


def test_a_deactivated_person_is_not_opened_a_dm(fake: FakeSlack) -> None:
    fake.add_user("U9", deleted=True)
    delivery = _delivery(fake, [])
    assert delivery.dm_channel(user_id="U9") is None
    assert delivery.dm_channel(user_id="U9") is None
    assert len(fake.calls("conversations.open")) == 1


def test_a_timed_out_post_is_not_retried_blindly(fake: FakeSlack) -> None:
    """It may have posted: the outbox looks in the DM before trying again."""
    fake.fail("chat.postMessage", delay=0.4, times=3)
    sleeps: list[float] = []
    delivery = _delivery(fake, sleeps, timeout=0.1)
    assert post(delivery) == Sent()
    assert sleeps == []
    # Under load the client can time out before the fake has read its request: wait for it.
    deadline = time.monotonic() + 5
    while not fake.calls("chat.postMessage") and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(fake.calls("chat.postMessage")) == 1


def test_a_429_on_a_post_is_waited_out_it_posted_nothing(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=2)
    sleeps: list[float] = []
    assert post(_delivery(fake, sleeps)).ts
    assert sleeps == [2.0] and len(fake.calls("chat.postMessage")) == 2


def test_a_failing_profile_look_up_only_costs_the_greeting(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    fake.fail("users.info", status=500, times=1)
    sam.says("hello")
    offer = sam.messages()[-1]
    assert "Hello." in offer["blocks"][0]["text"]["text"], "greeted, without a name"
    assert len(fake.calls("users.info")) == 1, "not retried before the ack"


def test_a_failed_profile_look_up_is_tried_again_next_time(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    fake.fail("users.info", status=500, times=1)
    sam.says("hello")
    sam.says("hello")
    assert "Hello, Sam." in sam.messages()[-1]["blocks"][0]["text"]["text"]
