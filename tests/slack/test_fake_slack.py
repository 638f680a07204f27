"""The fake Slack Web API behaves as the tests (and the weekly nudges' tests) rely on."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack.fake_slack import FakeSlack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[], timeout=2)


def test_members_are_paginated(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C1", members=[f"U{n:03d}" for n in range(250)])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = client.conversations_members(channel="C1", limit=100, cursor=cursor)
        seen += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 250 == len(set(seen))


def test_history_keeps_metadata_newest_first(fake: FakeSlack, client: WebClient) -> None:
    meta = {"event_type": "reflect_weekly_nudge", "event_payload": {"key": "2026-W47"}}
    client.chat_postMessage(channel="DU1", text="first")
    client.chat_postMessage(channel="DU1", text="second", metadata=meta)
    history = client.conversations_history(channel="DU1", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["second", "first"]
    assert history["messages"][0]["metadata"] == meta
    plain = client.conversations_history(channel="DU1")
    assert "metadata" not in plain["messages"][0]


def test_a_rate_limit_says_when_to_retry(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=2)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="DU1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "2"
    assert raised.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="DU1", text="hi")["ok"], "only once"


def test_a_processed_call_whose_answer_is_lost(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", drop=True, processed=True)
    with pytest.raises(Exception):  # noqa: B017 - the connection drops, however urllib says it
        client.chat_postMessage(channel="DU1", text="made it")
    assert [m["text"] for m in fake.messages("DU1")] == ["made it"]
    assert fake.calls("chat.postMessage")[0].faulted


def test_users_and_channels(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U5", first_name="Jo", tz="America/New_York", tz_offset=-18000, is_admin=True)
    fake.add_user("U6", deleted=True)
    user = client.users_info(user="U5")["user"]
    assert (user["tz"], user["tz_offset"], user["is_admin"], user["profile"]["first_name"]) == (
        "America/New_York",
        -18000,
        True,
        "Jo",
    )
    assert client.users_info(user="U6")["user"]["deleted"] is True
    with pytest.raises(SlackApiError):
        client.conversations_open(users="U6")
    fake.add_channel("C2", members=["U5"], name="ward-7")
    info = client.conversations_info(channel="C2")["channel"]
    assert info["name"] == "ward-7" and info["is_member"] is False
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C2", text="hi")
    assert raised.value.response["error"] == "not_in_channel"
