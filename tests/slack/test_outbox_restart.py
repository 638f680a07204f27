"""A restarted `reflect run` (over HTTP or Socket Mode) posts the replies a previous process
acked but never posted: the outbox is drained at start (bot.slack.serving.launch)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.slack.delivery.gateway import web_client
from bot.slack.serving.launch import serve
from bot.store.outbox import outbox_of
from bot.store.sqlite import SqliteStore
from tests.faults.chaos import eventually
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket_mode import FakeSocketMode
from tests.slack.harness import make_bot, settings_for

SECRET = b"s" * 32


def left_over(path: Path) -> None:
    """A process that stored a step and acked, then died before posting its reply."""
    with SqliteStore.open(path, secret=SECRET) as store, store.writing():
        outbox_of(store).add(
            Person("T1:U1"),
            [{"kind": "post", "user": "U1", "text": "left over", "blocks": []}],
            now=dt.datetime.now(dt.UTC),
        )


@pytest.mark.parametrize("over", ["http", "socket"])
def test_a_restarted_process_posts_what_was_left(
    fake: FakeSlack, socket: FakeSocketMode, tmp_path: Path, over: str
) -> None:
    path = tmp_path / "reflect.db"
    left_over(path)
    store = SqliteStore.open(path, secret=SECRET)
    bot = make_bot(fake, tmp_path, store=store)  # the engine, as `reflect run` builds it
    settings = settings_for(fake, slack_app_token="xapp-test")
    stop = threading.Event()
    running = threading.Thread(
        target=serve,
        kwargs={
            "settings": settings,
            "store": store,
            "conversations": bot.conversations,
            "http": over == "http",
            "port": 0,
            "host": "127.0.0.1",
            "stop": stop,
            "client": web_client(settings=settings),
        },
    )
    running.start()
    try:
        assert eventually(lambda: len(fake.messages("DU1")) == 1, seconds=30)
        assert fake.messages("DU1")[0]["text"] == "left over"
        assert eventually(lambda: outbox_of(store).pending() == 0, seconds=30)
    finally:
        stop.set()
        running.join(timeout=20)
        bot.lanes.close()
        store.close()
    assert not running.is_alive()
