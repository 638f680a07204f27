"""Requests Slack sends: signatures, redeliveries, and what the bot must ignore."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide


def _nothing_happened(fake: FakeSlack, bot: Bot, sam: Leader) -> None:
    bot.settle()
    assert fake.calls("chat.postMessage") == []
    assert bot.store.load_session(sam.person) is None


def test_health_check(slack: SlackSide) -> None:
    assert slack.http.get("/healthz").status_code == 200


def test_url_verification_answers_the_challenge(slack: SlackSide) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    response = slack.send(body, content_type="application/json")
    assert response.status_code == 200 and response.json()["challenge"] == "abc123"


def test_a_forged_signature_gets_401_changes_nothing_and_logs_no_body(
    slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "my-secret-reflection-canary"
    body = json.dumps(
        payloads.event_callback(payloads.message_im("U1", f"hard day {canary}"))
    ).encode()
    response = slack.send(body, content_type="application/json", secret="not-the-signing-secret")
    assert response.status_code == 401
    _nothing_happened(fake, bot, sam)
    assert canary not in caplog.text
    assert "U1" not in caplog.text


def test_a_stale_timestamp_gets_401(
    slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader
) -> None:
    body = json.dumps(payloads.event_callback(payloads.message_im("U1", "hard day"))).encode()
    response = slack.send(body, content_type="application/json", timestamp=int(time.time()) - 600)
    assert response.status_code == 401
    _nothing_happened(fake, bot, sam)


def test_a_forged_slash_command_gets_401(
    slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader
) -> None:
    body = payloads.slash_command("U1", "hard day")
    response = slack.send(body, content_type="application/x-www-form-urlencoded", secret="wrong")
    assert response.status_code == 401
    _nothing_happened(fake, bot, sam)


def test_a_redelivered_event_is_processed_once(
    slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader
) -> None:
    sam.says("hard day")
    before = bot.conversations.current(sam.person)
    body = payloads.event_callback(payloads.message_im("U1", "The first answer"), event_id="EvSAME")
    assert slack.envelope(body).status_code == 200
    assert slack.envelope(body, retry_num=1).status_code == 200
    assert slack.envelope(body, retry_num=2).status_code == 200
    bot.settle()
    after = bot.conversations.current(sam.person)
    assert before is not None and after is not None
    assert after.position == before.position + 1, "answered exactly once"
    posts_after_answer = [m for m in sam.messages() if "question 2" in json.dumps(m)]
    assert len(posts_after_answer) == 1


def test_an_event_whose_processing_failed_is_processed_when_redelivered(
    slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam.says("hard day")
    receive = bot.conversations.receive
    failures = iter([RuntimeError("database is locked")])

    def flaky(person, text):  # type: ignore[no-untyped-def]
        for failure in failures:
            raise failure
        return receive(person, text)

    monkeypatch.setattr(bot.conversations, "receive", flaky)
    body = payloads.event_callback(payloads.message_im("U1", "The first answer"), event_id="EvFAIL")
    assert slack.envelope(body).status_code >= 500  # not acknowledged: Slack will redeliver
    assert slack.envelope(body, retry_num=1).status_code == 200
    bot.settle()
    session = bot.store.load_session(sam.person)
    assert session is not None and "The first answer" in session.answers.values()


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B999"},
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"channel_type": "channel", "channel": "C1"},
    ],
    ids=["bot message", "edit", "join", "channel message"],
)
def test_messages_that_are_not_a_persons_dm_are_ignored(
    extra: dict, slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader
) -> None:
    event = {**payloads.message_im("U1", "hard day"), **extra}
    assert slack.event(event).status_code == 200
    _nothing_happened(fake, bot, sam)


def test_events_for_another_app_are_ignored(
    slack: SlackSide, fake: FakeSlack, bot: Bot, sam: Leader
) -> None:
    response = slack.event(payloads.message_im("U1", "hard day"), api_app_id="A_OTHER")
    assert response.status_code == 200
    _nothing_happened(fake, bot, sam)


def test_a_signpost_is_posted_first(sam: Leader) -> None:
    sam.says("hard day")
    before = len(sam.messages())
    sam.says("I can't go on, I want to end my life")
    new = sam.messages()[before:]
    assert new, "something was posted"
    first = new[0]["blocks"]
    assert first[0]["type"] == "header" and first[0]["text"]["text"] == "Support, right now"
    assert "116 123" in json.dumps(new[0])


@pytest.mark.parametrize("stamp", ["", "soon", "1.5", "-1"])
def test_a_malformed_timestamp_gets_401(slack: SlackSide, stamp: str) -> None:
    response = slack.http.post(
        "/slack/events",
        content=b"{}",
        headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x00", "application/json"),
        (b"[1]", "application/json"),
        (b"a=\xff", "application/x-www-form-urlencoded"),
        (b"payload=not-json", "application/x-www-form-urlencoded"),
    ],
    ids=["not JSON", "a JSON list", "form not UTF-8", "payload not JSON"],
)
def test_junk_gets_401_unsigned_and_400_signed_never_500(
    slack: SlackSide, body: bytes, content_type: str, fake: FakeSlack, bot: Bot, sam: Leader
) -> None:
    unsigned = slack.http.post(
        "/slack/events", content=body, headers={"Content-Type": content_type}
    )
    assert unsigned.status_code == 401
    signed = slack.send(body, content_type=content_type)
    assert 400 <= signed.status_code < 500
    _nothing_happened(fake, bot, sam)


def test_a_dm_with_a_lone_surrogate_is_kept_not_a_500(
    slack: SlackSide, bot: Bot, sam: Leader
) -> None:
    sam.says("hard day")
    body = json.dumps(payloads.event_callback(payloads.message_im("U1", "before \ud800 after")))
    response = slack.send(body.encode(), content_type="application/json")
    bot.settle()
    assert response.status_code == 200
    session = bot.store.load_session(sam.person)
    assert session is not None and session.answers["what_happened"] == "before ? after"
