"""A fake clock, a keyring, the fake Slack on loopback and a database (an SQLite file, or a
PostgreSQL schema of the tests' server): the weekly reminders' world."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.slack.delivery.reminder_api import ReminderSlack, WebReminderSlack
from bot.slack.views.reminder import FlowChoice
from bot.store.postgres import PostgresStore
from bot.store.privacy import Keyring
from bot.store.sqlite import SqliteStore
from bot.store.weekly.teams import Team, Teams
from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import lead_aad, slack_identity
from bot.weekly.runner import ReminderRunner, RoundReport
from bot.weekly.wiring import build_runner
from tests.fakes import FakeClock
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack, User

UTC = dt.UTC
TEST_SECRET = b"test secret for weekly nudges"
SIX_HOURS = dt.timedelta(hours=6)
FRIDAY_4PM = WeeklyTime(day=4, time=dt.time(16, 0))
FLOWS = (
    FlowChoice("weekly-checkin", "Weekly check-in"),
    FlowChoice("hard-day", "After a hard day"),
)


def simulated_runner(
    *,
    db: Any,
    keyring: Keyring,
    slack_url: str,
    clock: Any,
    interval: float,
    lease: dt.timedelta | None = None,
) -> ReminderRunner:
    """A reminder runner on a simulated clock (one the fake Slack shares), posting to the fake
    Slack with the test bot token: the sender processes of the scale runs and the cost bench."""
    return build_runner(
        db=db,
        slack=WebReminderSlack(token="xoxb-test", base_url=slack_url, timeout=10),
        keyring=keyring,
        flows=FLOWS,
        clock=clock,
        sleep=clock.sleep,
        late_after=SIX_HOURS,
        interval=interval,
        lease=lease,
    )


class QueryRow(dict[str, Any]):
    """A row by column name, or by position."""

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)

    def __iter__(self) -> Any:  # as sqlite3.Row: the values
        return iter(list(self.values()))


class Rows(list[QueryRow]):
    """A query's rows, read as from a cursor."""

    def fetchall(self) -> list[QueryRow]:
        return list(self)

    def fetchone(self) -> QueryRow:
        """The first row (a test asking for one expects one)."""
        assert self, "the query found no row"
        return self[0]


def open_world_store(db_path: Path, pg: PgUrls | None) -> SqliteStore | PostgresStore:
    if pg is None:
        return SqliteStore.open(db_path, secret=TEST_SECRET)
    return PostgresStore.open(pg.url, keys_url=pg.keys_url, secret=TEST_SECRET, pool_size=4)


def connect(path: Path | str) -> sqlite3.Connection:
    """A plain connection for a test to look at the tables (the bot goes through the store)."""
    connection = sqlite3.connect(str(path), isolation_level=None)
    connection.row_factory = sqlite3.Row
    return connection


@dataclass
class World:
    db_path: Path
    #: The one fake Slack (tests/slack/fake_slack.py), serving at `api_url`.
    workspace: FakeSlack
    api_url: str
    clock: FakeClock
    keyring: Keyring = field(default_factory=lambda: Keyring(TEST_SECRET))
    late_after: dt.timedelta = SIX_HOURS
    #: The PostgreSQL schemas to use instead of the SQLite file at `db_path`.
    pg: PgUrls | None = None

    @cached_property
    def store(self) -> SqliteStore | PostgresStore:
        """The bot's store over the world's database (opened on first use)."""
        return open_world_store(self.db_path, self.pg)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    @property
    def database(self) -> str:
        """What a sender process is given to open the same store (a path or a data URL)."""
        return str(self.db_path) if self.pg is None else self.pg.url

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Rows:
        """Rows of a test's look at the tables (written in SQLite's style, `?` parameters),
        outside the bot's store."""
        if self.pg is None:
            connection = connect(self.db_path)
            try:
                cursor = connection.execute(sql, params)
                names = [column[0] for column in cursor.description or ()]
                found = cursor.fetchall()
            finally:
                connection.close()
        else:
            with self.pg.connect() as conn:
                pg_cursor = conn.execute(sql.replace("?", "%s"), params)
                names = [column[0] for column in pg_cursor.description or ()]
                found = pg_cursor.fetchall() if pg_cursor.description else []
        return Rows(QueryRow(zip(names, row, strict=True)) for row in found)

    def slack(self) -> ReminderSlack:
        return WebReminderSlack(token="xoxb-test", base_url=self.api_url, timeout=5)

    def runner(self, **options: Any) -> ReminderRunner:
        """A runner over the world's store and fake Slack, sleeping on the fake clock;
        `options` are build_runner's (interval, checkpoint, sleep, should_stop, keep_for)."""
        options.setdefault("sleep", self.clock.sleep)
        return build_runner(
            db=self.store,
            slack=self.slack(),
            keyring=self.keyring,
            flows=FLOWS,
            clock=self.clock,
            late_after=self.late_after,
            **options,
        )

    def team(self, size: int, channel: str = "C1") -> list[str]:
        """A team of `size` people in London, switched on for Friday 16:00; their user ids."""
        users = [f"U{number:04d}" for number in range(size)]
        for user in users:
            self.workspace.add_user(User(user, tz="Europe/London"))
        self.workspace.add_channel(channel, users)
        self.switch_on(channel)
        return users

    def pseudonym(self, user: str, workspace: str = "T1") -> str:
        return self.keyring.pseudonym(slack_identity(workspace=workspace, user=user))

    def switch_on(
        self,
        channel: str,
        *,
        lead: str = "ULEAD",
        when: WeeklyTime = FRIDAY_4PM,
        at: dt.datetime | None = None,
        workspace: str = "T1",
    ) -> Team:
        person = self.pseudonym(lead, workspace)
        return Teams(self.store, keyring=self.keyring).switch_on(
            channel=channel,
            workspace=workspace,
            when=when,
            lead=person,
            lead_sealed=self.keyring.seal(lead, aad=lead_aad(channel=channel, lead=person)),
            now=at or self.clock(),
        )

    def opt_out(self, channel: str, user: str) -> None:
        Teams(self.store, keyring=self.keyring).opt_out(
            channel=channel, person=self.pseudonym(user), now=self.clock()
        )

    def run_until(
        self,
        end: dt.datetime,
        *,
        runner: ReminderRunner | None = None,
        step: dt.timedelta = SIX_HOURS,
    ) -> list[RoundReport]:
        """Rounds from now to `end`, waking when the runner says something is next due."""
        runner = runner or self.runner()
        reports = []
        while self.clock() < end:
            report = runner.run_once()
            reports.append(report)
            wake = self.clock() + step
            if report.next_wake is not None and report.next_wake > self.clock():
                wake = min(wake, report.next_wake)
            elif report.next_wake is not None:
                wake = self.clock() + dt.timedelta(seconds=1)
            self.clock.set(min(wake, end))
        return reports
