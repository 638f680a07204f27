from __future__ import annotations

from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Served, SlackSide, texts


def test_a_first_message_gets_the_offer(fake: FakeSlack, bot: Bot, slack: SlackSide, served: Served) -> None:
    response = slack.event(payloads.message_im("U1", "hello"))
    assert response.status_code == 200
    bot.settle()
    posted = fake.messages("DU1")
    assert posted, fake.calls()
    print(texts(posted[-1]))
