"""What the database files say to someone who has them but not the secret: a leader used
Reflect in Slack (a flow with choices, words of risk at 23:10:21, the check-in question and the
crisis card), then the files are read with sqlite3 alone."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine import safety
from bot.engine.safety import Concern
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, Served, SlackSide, make_bot

LATE = dt.datetime(2026, 11, 20, 23, 10, 21, tzinfo=dt.UTC)
USER = "U0CANARY77"
CHANNEL = "C0TEAMCANARY"
ZONE = "Pacific/Chatham"


@pytest.fixture
def late(tmp_path: Path) -> Iterator[tuple[Leader, Bot]]:
    fake = FakeSlack().start()
    fake.add_user(USER, first_name="Robin", tz=ZONE, tz_offset=45900)
    fake.add_channel(CHANNEL, members=[USER, "UBOT"], name="team")
    bot = make_bot(fake, tmp_path, now=LATE)
    served = Served(bot.app)
    side = SlackSide(url=served.url)
    try:
        yield Leader(user_id=USER, slack=side, fake=fake, bot=bot), bot
    finally:
        side.http.close()
        served.close()
        bot.lanes.close()
        bot.store.close()
        fake.stop()


CLOSE_TO_RISK = "I've written letters to everyone, just in case"


def _screen(text: str) -> Concern | None:
    """The shipped screen, with one sentence that is sure to get the check-in question."""
    return Concern("check_in") if text == CLOSE_TO_RISK else safety.screen(text)


def _rows(path: Path) -> Iterator[tuple[str, dict[str, object]]]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                yield table, dict(zip(names, row, strict=True))


def test_the_files_alone_link_no_pseudonym_to_crisis_channel_zone_or_answer(
    late: tuple[Leader, Bot], tmp_path: Path
) -> None:
    robin, bot = late
    robin.says("someone in my team")
    bot.conversations.screen = _screen
    robin.types(CLOSE_TO_RISK)  # the safety screen asks the check-in question
    robin.presses("check_in:yes")  # ...and the answer shows crisis support
    robin.presses("after_crisis:carry_on")
    robin.answer_everything(by="clicking")
    robin.says("I want to end my life tonight")
    bot.store.close()

    files = sorted(p for p in tmp_path.iterdir() if p.name.startswith("reflect"))
    everything = b"".join(p.read_bytes() for p in files)
    for canary in (USER, CHANNEL, ZONE, "Robin", "T1:" + USER):
        assert canary.encode() not in everything, canary

    linked = [(t, r) for path in files for t, r in _rows(path) if "pseudonym" in r]
    assert linked, "the test reads the tables that name people"
    for table, row in linked:
        text = " ".join(str(v) for v in row.values() if not isinstance(v, bytes))
        assert not re.search(r"signpost|crisis|firm|check_in", text), (table, row)
        if table == "events":  # a day, never the time of day
            assert str(row["at"]).endswith("T00:00:00.000000+00:00"), row
        if table == "answers":
            assert row["value"] is None, row  # every answer, choices too, is sealed
    with sqlite3.connect(tmp_path / "reflect.db") as db:
        (clear,) = db.execute("SELECT count(*) FROM answers WHERE value IS NOT NULL").fetchone()
        (answers,) = db.execute("SELECT count(*) FROM answers").fetchone()
        kinds = {k for (k,) in db.execute("SELECT DISTINCT event FROM events")}
    assert answers > 0 and clear == 0
    assert kinds == {"sealed"}  # what happened (crisis support, a suggestion, a click) is sealed


def test_the_weekly_tables_alone_link_no_pseudonym_to_a_channel_or_time_zone(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from bot import settings as settings_module
    from bot.cli import cli
    from bot.store import open_store
    from bot.store.sqlite import SqliteStore
    from bot.store.weekly.teams import Teams
    from bot.weekly.due import WeeklyTime
    from bot.weekly.privacy import lead_aad, slack_identity
    from tests.slack.fake_slack import FakeSlack

    fake = FakeSlack(team_id="T1").start()
    fake.add_user(USER, tz=ZONE)
    fake.add_user("U0OTHERCANARY", tz=ZONE)
    fake.add_channel(CHANNEL, [USER, "U0OTHERCANARY"])
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake.url,
        "REFLECT_DATA_DIR": str(tmp_path),
        "REFLECT_SECRET_KEY": "a-test-secret-that-is-long-enough-to-be-accepted-0123456789",
    }
    try:
        settings = settings_module.load(env, env_file=Path("/nonexistent"))
        with open_store(settings) as store:
            assert isinstance(store, SqliteStore)
            lead = store.keyring.pseudonym(slack_identity(workspace="T1", user=USER))
            Teams(store, keyring=store.keyring).switch_on(
                channel=CHANNEL,
                workspace="T1",
                when=WeeklyTime(),
                lead=lead,
                lead_sealed=store.keyring.seal(USER, aad=lead_aad(channel=CHANNEL, lead=lead)),
                now=dt.datetime(2026, 10, 26, tzinfo=dt.UTC),
            )
        result = CliRunner().invoke(
            cli, ["reminders", "run-once", "--now", "2026-10-30T20:01Z"], env=env
        )
        assert result.exit_code == 0, result.output
    finally:
        fake.stop()
    everything = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert ZONE.encode() not in everything  # time zones: looked up, never kept
    assert CHANNEL.encode() not in everything  # channels: keyed digests, the id sealed
