"""With one bot token (a self-hosted workspace), an uninstall erases too: nothing more is said
to the workspace, and its people's data goes after the grace period. People kept before
organisation keys existed are moved under their workspace's key when the bot starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.engine.people import Person
from bot.engine.reflections import Reflection
from bot.slack.serving.launch import adopt_single_workspace
from bot.store.sqlite import SqliteStore
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide
from tests.slack.installs import uninstalled


def test_an_uninstall_stops_the_bot_and_erases_after_the_grace_period(
    sam: Leader, bot: Bot, fake: FakeSlack, slack: SlackSide
) -> None:
    sam.says("hard day")
    assert bot.store.load_session(sam.person) is not None
    assert uninstalled(slack, "T1").status_code == 200
    assert bot.store.is_uninstalled("T1")
    posted = len(fake.calls("chat.postMessage"))
    sam.says("hello?")
    assert len(fake.calls("chat.postMessage")) == posted
    now = dt.datetime.now(dt.UTC)
    assert bot.store.erase_due(now=now + dt.timedelta(days=6)) == 0
    assert bot.store.load_session(sam.person) is not None
    assert bot.store.erase_due(now=now + dt.timedelta(days=8)) == 1
    assert bot.store.load_session(sam.person) is None


def test_people_from_before_are_put_under_the_workspace_key_at_start(tmp_path: Path) -> None:
    moment = dt.datetime(2026, 1, 5, 18, 0, tzinfo=dt.UTC)
    kept = Reflection(
        flow_id="hard-day", started_at=moment, finished_at=moment, summary="Kept.", answers=()
    )
    with SqliteStore.open(tmp_path / "r.db", secret=b"s" * 32) as store:
        earlier = Person(id="T1:U1")  # kept by a release without organisation keys
        store.finish(earlier, kept)
        adopt_single_workspace(store, {"ok": True, "team_id": "T1", "user_id": "UBOT"})
        assert [r.summary for r in store.reflections(earlier)] == ["Kept."]
        store.uninstalled("T1", at=moment, erase_after=moment)
        assert store.erase_due(now=moment) == 1
        assert store.reflections(earlier) == []
