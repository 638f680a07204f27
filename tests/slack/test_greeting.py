"""The person's profile (users.info) is looked up after the ack, on their lane, never before
it: the ack does not wait on Slack. The greeting (and a flow's first words) still say their
name, and the name is remembered for the next request."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide, texts

#: Longer than a look-up before the ack was allowed to wait (1 s), shorter than the one after it.
SLOW = 2.0

GREETED_BY: dict[str, Callable[[SlackSide], httpx.Response]] = {
    "a direct message": lambda slack: slack.event(payloads.message_im("U1", "hello")),
    "the command": lambda slack: slack.command("U1", ""),
}


@pytest.mark.parametrize("how", GREETED_BY)
def test_the_ack_does_not_wait_for_the_profile_and_the_greeting_has_the_name(
    how: str, sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    fake.fail("users.info", delay=SLOW)
    assert GREETED_BY[how](slack).status_code == 200
    assert len(fake.calls("users.info")) <= 1, "not looked up before the ack"
    assert sam.messages() == [], "acked while the look-up is still waiting for Slack"
    bot.settle()
    assert len(fake.calls("users.info")) == 1
    assert "Sam" in texts(sam.messages()[-1])


def test_a_flow_started_at_first_contact_greets_by_name(sam: Leader, fake: FakeSlack) -> None:
    fake.fail("users.info", delay=SLOW)
    sam.says("hard day")
    assert "Sam" in texts(sam.messages()[-1])


def test_the_profile_is_looked_up_once_and_remembered(sam: Leader, fake: FakeSlack) -> None:
    sam.says("hello")
    sam.says("hello")
    sam.types("")
    assert len(fake.calls("users.info")) == 1
    assert all("Sam" in texts(message) for message in sam.messages())
