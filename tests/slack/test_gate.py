"""Every well-formed request gets a 200, the ones meant for another app are dropped, and a
signed request replayed within the signature window is not acted on twice, even by another
process sharing the database. Payload shapes follow what Slack sends (closed modals, clicks on
old buttons, shortcuts, app_rate_limited...), written here as the project's own fixtures."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.slack.serving.gate import own_app_id
from bot.store.sqlite import SqliteStore
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, Served, SlackSide, make_bot
from tests.slack.signing import signed_headers

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _team() -> dict[str, Any]:
    return {"id": "T1", "domain": "workspace-domain"}


def _user(user: str = "U1") -> dict[str, Any]:
    return {"id": user, "username": "sam", "name": "sam", "team_id": "T1"}


def _view(callback_id: str) -> dict[str, Any]:
    return {
        "id": "V111",
        "team_id": "T1",
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": callback_id,
        "state": {"values": {}},
        "hash": "156772938.1827394",
        "title": {"type": "plain_text", "text": "Reflect"},
        "clear_on_close": False,
        "notify_on_close": True,
        "close": {"type": "plain_text", "text": "Cancel"},
        "submit": {"type": "plain_text", "text": "Erase"},
        "previous_view_id": None,
        "root_view_id": "V111",
        "app_id": "A1",
        "external_id": "",
        "app_installed_team_id": "T1",
        "bot_id": "B1",
    }


def view_closed(callback_id: str) -> dict[str, Any]:
    return {
        "type": "view_closed",
        "team": _team(),
        "user": _user(),
        "api_app_id": "A1",
        "token": "legacy",
        "view": _view(callback_id),
        "is_cleared": False,
    }


def stale_click(action_id: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": _user(),
        "api_app_id": "A1",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": "111.222",
            "channel_id": "DU1",
            "is_ephemeral": False,
        },
        "trigger_id": "111.222.abc",
        "team": _team(),
        "channel": {"id": "DU1", "name": "directmessage"},
        "message": {"type": "message", "ts": "111.222", "text": "an old message", "blocks": []},
        "response_url": "https://hooks.example/actions/T1/1/x",
        "actions": [
            {
                "type": "button",
                "block_id": "old",
                "action_id": action_id,
                "text": {"type": "plain_text", "text": "Old"},
                "value": "1",
                "action_ts": "111.333",
            }
        ],
    }


def global_shortcut() -> dict[str, Any]:
    return {
        "type": "shortcut",
        "token": "legacy",
        "action_ts": "111.111",
        "team": _team(),
        "user": _user(),
        "callback_id": "someone-added-this",
        "trigger_id": "111.222.abc",
    }


def message_shortcut() -> dict[str, Any]:
    return {
        "type": "message_action",
        "token": "legacy",
        "action_ts": "1583637157.207593",
        "team": _team(),
        "user": {"id": "U1", "name": "sam"},
        "channel": {"id": "C111", "name": "dev"},
        "callback_id": "someone-added-this",
        "trigger_id": "111.222.abc",
        "message_ts": "1583636382.000300",
        "message": {"type": "message", "text": "hello", "user": "U2", "ts": "1583636382.000300"},
        "response_url": "https://hooks.example/app/T1/1/x",
    }


def block_suggestion() -> dict[str, Any]:
    return {
        "type": "block_suggestion",
        "user": _user(),
        "container": {"type": "view", "view_id": "V111"},
        "api_app_id": "A1",
        "token": "legacy",
        "action_id": "es_a",
        "block_id": "es_b",
        "value": "search word",
        "team": _team(),
        "view": _view("unknown"),
    }


def dialog_cancellation() -> dict[str, Any]:
    return {
        "type": "dialog_cancellation",
        "token": "legacy",
        "action_ts": "1596603453.047897",
        "team": _team(),
        "user": {"id": "U1", "name": "sam", "team_id": "T1"},
        "channel": {"id": "C111", "name": "test-channel"},
        "callback_id": "dialog-callback-id",
        "response_url": "https://hooks.example/app/T1/1/x",
        "state": "",
    }


def view_submission_unknown() -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(),
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "111.222.abc",
        "view": _view("not-ours"),
        "response_urls": [],
    }


def app_rate_limited() -> dict[str, Any]:
    return {
        "token": "legacy",
        "type": "app_rate_limited",
        "team_id": "T1",
        "minute_rate_limited": 1518467820,
        "api_app_id": "A1",
    }


def some_event(kind: str, **fields: Any) -> dict[str, Any]:
    return payloads.event_callback({"type": kind, "event_ts": "1360782804.083113", **fields})


INTERACTIONS = {
    "view closed": view_closed("unknown"),
    "forget dialog cancelled": view_closed("forget_confirm"),
    "stale click": stale_click("answer:9"),
    "unknown action": stale_click("no_such_action"),
    "global shortcut": global_shortcut(),
    "message shortcut": message_shortcut(),
    "block suggestion": block_suggestion(),
    "dialog cancelled": dialog_cancellation(),
    "unknown view submitted": view_submission_unknown(),
}
EVENTS = {
    "app_rate_limited": app_rate_limited(),
    "reaction added": some_event(
        "reaction_added",
        user="U1",
        reaction="thumbsup",
        item={"type": "message", "channel": "C1", "ts": "1.2"},
    ),
    "member joined": some_event("member_joined_channel", user="U1", channel="C1"),
    "tokens revoked": some_event("tokens_revoked", tokens={"oauth": [], "bot": ["UBOT"]}),
    "file shared": some_event("file_shared", file_id="F1", user_id="U1", channel_id="C1"),
}


@pytest.mark.parametrize("name", sorted(INTERACTIONS))
def test_an_interaction_nothing_handles_gets_200(slack: SlackSide, name: str) -> None:
    assert slack.interact(INTERACTIONS[name]).status_code == 200


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_an_event_nothing_handles_gets_200(slack: SlackSide, name: str) -> None:
    assert slack.envelope(EVENTS[name]).status_code == 200


def test_an_unknown_slash_command_gets_200(slack: SlackSide) -> None:
    body = payloads.slash_command("U1", "hello").replace(b"%2Freflect", b"%2Fsomething-else")
    assert b"something-else" in body
    assert slack.send(body, content_type=FORM).status_code == 200


def test_a_rate_limit_notice_is_a_warning_and_a_stale_click_is_not(
    slack: SlackSide, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.slack"):
        slack.envelope(app_rate_limited())
        slack.interact(stale_click("no_such_action"))
        slack.interact(view_closed("forget_confirm"))
    ours = [r for r in caplog.records if r.name == "bot.slack.serving.unhandled"]
    assert [r.levelno for r in ours] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert not any(
        r.levelno >= logging.WARNING for r in caplog.records if r.name.startswith("slack_bolt")
    )


# ---------------------------------------------------------------------- replays


def _replay(slack: SlackSide, body: bytes, content_type: str, bot: Bot) -> tuple[int, int]:
    headers = signed_headers(slack.secret, body, content_type=content_type)
    first = slack.http.post("/slack/events", content=body, headers=headers)
    bot.settle()
    second = slack.http.post("/slack/events", content=body, headers=headers)
    bot.settle()
    return first.status_code, second.status_code


def test_a_replayed_slash_command_runs_once(sam: Leader, slack: SlackSide, bot: Bot) -> None:
    body = payloads.slash_command("U1", "hard-day")
    headers = signed_headers(slack.secret, body, content_type=FORM)
    assert slack.http.post("/slack/events", content=body, headers=headers).status_code == 200
    bot.settle()
    posted = len(sam.messages())
    assert posted > 0
    assert slack.http.post("/slack/events", content=body, headers=headers).status_code == 200
    bot.settle()
    assert len(sam.messages()) == posted


def test_a_replayed_click_is_acted_on_once(sam: Leader, slack: SlackSide, bot: Bot) -> None:
    sam.types("hard-day")
    sam.says("A long shift")
    before = bot.conversations.current(sam.person)
    assert before is not None and before.step_kind == "scale"
    message, block_id = sam.question_message()
    value = str(before.scale.min)  # type: ignore[union-attr]
    action = {"type": "button", "action_id": f"answer:{value}", "block_id": block_id}
    button = next(
        element
        for block in message["blocks"]
        if block.get("block_id") == block_id
        for element in block["elements"]
        if element.get("value") == value
    )
    action["action_id"] = button["action_id"]
    action["value"] = value
    payload = payloads.block_actions("U1", message=message, channel=sam.dm, action=action)
    body = payloads.interactive_body(payload)
    assert _replay(slack, body, FORM, bot) == (200, 200)
    after = bot.conversations.current(sam.person)
    assert after is not None and after.position == before.position + 1


def test_a_replay_to_another_process_sharing_the_database_is_refused(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """Two bots on one database file, as two processes behind a load balancer would be."""
    first, second = make_bot(fake, tmp_path), make_bot(fake, tmp_path)
    served = [Served(first.app), Served(second.app)]
    sides = [SlackSide(url=s.url) for s in served]
    try:
        body = payloads.slash_command("U1", "hard-day")
        headers = signed_headers(sides[0].secret, body, content_type=FORM)
        assert sides[0].http.post("/slack/events", content=body, headers=headers).is_success
        first.settle()
        once = len(fake.messages(fake.dm_of("U1")))
        assert once > 0
        assert sides[1].http.post("/slack/events", content=body, headers=headers).is_success
        second.settle()
        assert len(fake.messages(fake.dm_of("U1"))) == once
        again = payloads.slash_command("U1", "hard-day")  # the same words, sent afresh
        assert sides[1].send(again, content_type=FORM).is_success
        second.settle()
        assert len(fake.messages(fake.dm_of("U1"))) > once
    finally:
        for side in sides:
            side.http.close()
        for server in served:
            server.close()
        for bot in (first, second):
            bot.lanes.close()
            bot.store.close()


def test_a_claim_lasts_the_signature_window_and_then_goes(tmp_path: Path) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with SqliteStore.open(tmp_path / "reflect.db", secret=b"s" * 32) as store:
        assert store.claim_request("v0=aa", at=now)
        assert not store.claim_request("v0=aa", at=now + dt.timedelta(minutes=10))
        assert store.claim_request("v0=bb", at=now + dt.timedelta(minutes=30))  # prunes aa
        assert store.claim_request("v0=aa", at=now + dt.timedelta(minutes=30))
        with store.reading() as db:
            assert db.execute("SELECT count(*) FROM seen_requests").fetchone()[0] == 2


# ---------------------------------------------------------------------- another app


@pytest.fixture
def quiet_fake() -> Any:
    """A Slack whose auth.test leaves app_id out, as it may."""
    server = FakeSlack(app_id=None).start()  # type: ignore[arg-type]
    server.add_user("U1", first_name="Sam")
    yield server
    server.stop()


def _dm_for_app(side: SlackSide, app_id: str) -> int:
    event = payloads.message_im("U1", "hard day")
    return side.envelope(payloads.event_callback(event, api_app_id=app_id)).status_code


def test_another_apps_dm_is_dropped_with_the_configured_app_id(
    quiet_fake: FakeSlack, tmp_path: Path
) -> None:
    bot = make_bot(quiet_fake, tmp_path, slack_app_id="A1")
    served = Served(bot.app)
    side = SlackSide(url=served.url)
    try:
        assert _dm_for_app(side, "A0OTHER") == 200
        bot.settle()
        assert quiet_fake.messages(quiet_fake.dm_of("U1")) == []
        assert _dm_for_app(side, "A1") == 200
        bot.settle()
        assert quiet_fake.messages(quiet_fake.dm_of("U1")) != []
    finally:
        side.http.close()
        served.close()
        bot.lanes.close()
        bot.store.close()


class _Client:
    def __init__(self, identity: dict[str, Any], bot: dict[str, Any]) -> None:
        self.identity, self.bot = identity, bot

    def auth_test(self) -> dict[str, Any]:
        return self.identity

    def bots_info(self, *, bot: str) -> dict[str, Any]:
        assert bot == "B1"
        return {"ok": True, "bot": self.bot}


def test_the_app_id_comes_from_settings_then_auth_test_then_the_bot_user() -> None:
    with_id = _Client({"app_id": "A1", "bot_id": "B1"}, {"app_id": "A2"})
    without = _Client({"bot_id": "B1"}, {"app_id": "A2"})
    assert own_app_id(with_id, configured="A9") == "A9"  # type: ignore[arg-type]
    assert own_app_id(with_id, configured=None) == "A1"  # type: ignore[arg-type]
    assert own_app_id(without, configured=None) == "A2"  # type: ignore[arg-type]
