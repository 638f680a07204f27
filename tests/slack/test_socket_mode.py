"""Socket Mode: the same app over a websocket, against a local server speaking the envelope
and ack format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.engine.people import Person
from bot.slack.delivery.gateway import web_client
from bot.slack.serving.socket import SocketModeRunner
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket_mode import FakeSocketMode
from tests.slack.harness import Bot, make_bot, settings_for, texts

SAM = Person(id="T1:U1")


@pytest.fixture
def socket_bot(fake: FakeSlack, socket: FakeSocketMode, tmp_path: Path) -> Iterator[Bot]:
    bot = make_bot(fake, tmp_path, slack_signing_secret=None, slack_app_token="xapp-test")
    client = web_client(settings=settings_for(fake, slack_app_token="xapp-test"))
    runner = SocketModeRunner(app=bot.app, app_token="xapp-test", client=client)
    runner.connect()
    socket.wait_connected()
    yield bot
    # Stop the server first (without the client reconnecting): its reader then sees the close
    # at once instead of waiting out its 3 s receive timeout.
    runner.handler.client.auto_reconnect_enabled = False
    socket.stop()
    runner.close()
    bot.lanes.close()
    bot.store.close()


def _dm(socket: FakeSocketMode, bot: Bot, text: str, **envelope: Any) -> dict:
    ack = socket.send(
        "events_api", payloads.event_callback(payloads.message_im("U1", text)), **envelope
    )
    bot.settle()
    return ack


def test_a_whole_flow_over_socket_mode(
    socket: FakeSocketMode, socket_bot: Bot, fake: FakeSlack
) -> None:
    bot = socket_bot
    form = dict(parse_qsl(payloads.slash_command("U1", "hard day").decode()))
    ack = socket.send("slash_commands", form)
    bot.settle()
    assert ack["envelope_id"].startswith("env-")
    assert bot.conversations.current(SAM) is not None

    for _ in range(20):
        question = bot.conversations.current(SAM)
        if question is None:
            break
        if question.step_kind in ("scale", "choice"):
            message = fake.messages("DU1")[-1]
            block = next(b for b in message["blocks"] if b.get("block_id", "").startswith("q|"))
            first = block["elements"][0]
            assert first["type"] == "button"
            action = {
                "type": "button",
                "action_id": first["action_id"],
                "block_id": block["block_id"],
                "value": first["value"],
            }
            socket.send(
                "interactive",
                payloads.block_actions("U1", message=message, channel="DU1", action=action),
            )
            bot.settle()
        else:
            _dm(socket, bot, "1" if question.step_kind in ("choice", "multi") else "Some words")

    assert bot.conversations.current(SAM) is None
    assert len(bot.store.reflections(SAM)) == 1
    assert any("Your reflection: After a hard day" in texts(m) for m in fake.messages("DU1"))
    updates = [json.dumps(c.args) for c in fake.calls("chat.update")]
    assert any("Your answer: 1" in update for update in updates), "the scale, clicked"
    clicked = [update for update in updates if "Your answer:" in update]
    assert len(clicked) >= 2, "the scale and the choice were both answered by buttons"
    assert fake.calls("chat.delete"), "the questions were cleared when the reflection ended"


def test_a_retried_envelope_is_processed_once(
    socket: FakeSocketMode, socket_bot: Bot, fake: FakeSlack
) -> None:
    bot = socket_bot
    _dm(socket, bot, "hard day")
    body = payloads.event_callback(payloads.message_im("U1", "The answer"), event_id="EvONCE")
    socket.send("events_api", body)
    socket.send("events_api", body, retry_attempt=1, retry_reason="timeout")
    bot.settle()
    session = bot.store.load_session(SAM)
    assert session is not None and list(session.answers) == ["what_happened"]


def test_the_app_reconnects_when_slack_asks(
    socket: FakeSocketMode, socket_bot: Bot, fake: FakeSlack
) -> None:
    socket.disconnect()
    socket.wait_connected(times=2)
    assert len(fake.calls("apps.connections.open")) == 2
    _dm(socket, socket_bot, "hard day")
    assert socket_bot.conversations.current(SAM) is not None
