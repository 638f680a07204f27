"""Two reminder processes (real OS processes) on PostgreSQL against the fake Slack, one killed
with SIGKILL mid-run: 300 people in 3 teams across their time zones, each reminded exactly
once within their local hour (tests/weekly/scale.py; the larger 3-process run, 800 people by
default, is in `make bench`). Simulated time runs 20 times faster than real time: a simulated
hour is 3 minutes, and planning starts a simulated minute before everyone is due."""

from __future__ import annotations

import signal

from bot.store.postgres import PostgresStore
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack
from tests.weekly.harness import TEST_SECRET
from tests.weekly.scale import Scenario, populate, run


def test_two_processes_one_killed_send_each_reminder_once_within_the_hour(
    pg_urls: PgUrls,
) -> None:
    scenario = Scenario(people=300, processes=2, allowed=4.0, speed=20.0, kill_after=100, lead=60.0)
    fake = FakeSlack().start()
    store = PostgresStore.open(
        pg_urls.url, keys_url=pg_urls.keys_url, secret=TEST_SECRET, pool_size=2
    )
    try:
        populate(store=store, keyring=store.keyring, fake=fake, people=scenario.people)

        def states() -> dict[str, int]:
            with pg_urls.connect() as conn:
                rows = conn.execute(
                    "SELECT state, count(*) FROM reminder_ledger GROUP BY state"
                ).fetchall()
            return {str(state): int(str(n)) for state, n in rows}

        outcome = run(
            scenario,
            fake=fake,
            database=["--db", pg_urls.url, "--keys-url", pg_urls.keys_url],
            states=states,
            timeout=300,
        )
    finally:
        store.close()
        fake.stop()
    assert outcome.killed
    assert outcome.returncodes[0] == -signal.SIGKILL
    assert outcome.duplicates == 0 and outcome.losses == 0, outcome.outputs
    assert outcome.states == {"sent": scenario.people}
    assert outcome.latest < 3600  # within their local hour
