"""Several people at once, slow posting, and very long answers."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide, texts


def test_eight_people_reflecting_at_once_each_finish_once(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    people = [f"U{n}" for n in range(10, 18)]
    for user in people:
        fake.add_user(user, first_name=f"P{user}")
    leaders = [Leader(user_id=user, slack=slack, fake=fake, bot=bot) for user in people]

    def walk(leader: Leader) -> list[str]:
        assert leader.says("hard day").status_code == 200
        return leader.answer_everything()

    with ThreadPoolExecutor(max_workers=8) as pool:
        walked = list(pool.map(walk, leaders))

    first = walked[0]
    for leader, steps in zip(leaders, walked, strict=True):
        assert steps == first
        assert len(bot.store.reflections(leader.person)) == 1
        assert bot.conversations.current(leader.person) is None
        summaries = [m for m in leader.messages() if "Your reflection:" in texts(m)]
        assert len(summaries) == 1


def test_the_ack_does_not_wait_for_posting(
    sam: Leader, bot: Bot, fake: FakeSlack, slack: SlackSide
) -> None:
    fake.fail("chat.postMessage", delay=0.5)
    response = slack.event(payloads.message_im("U1", "hard day"))
    assert response.status_code == 200
    assert bot.conversations.current(sam.person) is not None, "stored before the ack"
    assert sam.messages() == [], "acknowledged while the reply was still being posted"
    bot.settle()
    assert len(sam.messages()) == 1


def test_a_very_long_answer_is_accepted_and_its_summary_fits(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    long_answer = " ".join(f"word{n}" for n in range(3000))  # about 25,000 characters
    sam.says(long_answer)
    session = bot.store.load_session(sam.person)
    assert session is not None and session.answers["what_happened"] == long_answer
    sam.answer_everything()
    posts = sam.messages()
    summary_posts = [m for m in posts if "Your reflection:" in texts(m)]
    assert summary_posts
    for message in posts:
        assert len(message["blocks"]) <= 50
        for block in message["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
    assert "word2999" not in json.dumps(posts), "the reflection is not posted in the DM"
    (kept,) = bot.store.reflections(sam.person)
    assert "word2999" in kept.summary, "nothing of the long answer was lost in the summary"
