"""Bot processes on one PostgreSQL database: each the real Bolt app with its own pool, lanes and
locks, behind its own HTTP server, all talking to one fake Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.slack.delivery.lanes import Lanes
from bot.store.postgres import PostgresStore
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, Served, SlackSide, make_bot


@dataclass
class Process:
    bot: Bot
    served: Served
    slack: SlackSide

    def leader(self, fake: FakeSlack, user_id: str = "U1") -> Leader:
        """Someone talking to this process."""
        return Leader(user_id=user_id, slack=self.slack, fake=fake, bot=self.bot)


#: Starts one more process (on `lanes`, default: its own).
Start = Callable[..., Process]


@contextmanager
def processes_on(fake: FakeSlack, tmp_path: Path, pg_urls: PgUrls) -> Iterator[Start]:
    """Start processes on the PostgreSQL of `pg_urls`, each in a folder of its own under
    `tmp_path`; all are closed after."""
    made: list[Process] = []

    def start(*, lanes: Lanes | None = None) -> Process:
        store = PostgresStore.open(
            pg_urls.url, keys_url=pg_urls.keys_url, secret=b"s" * 32, pool_size=4
        )
        bot = make_bot(fake, tmp_path / f"process{len(made)}", store=store, lanes=lanes)
        served = Served(bot.app)
        made.append(Process(bot=bot, served=served, slack=SlackSide(url=served.url)))
        return made[-1]

    try:
        yield start
    finally:
        for process in made:
            process.slack.http.close()
            process.served.close()
            process.bot.lanes.close()
            process.bot.store.close()
