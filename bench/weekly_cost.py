"""What one weekly reminder costs the sender: SQL statements, HTTP calls and CPU per post.

    python -m bench.weekly_cost --people 2000

One sender (in this process, on PostgreSQL started by tests/pg_server.py) plans and sends to
`--people` people in teams of 100 against the fake Slack with no rate limits, so it runs flat
out; the fake runs in this process too, but CPU is counted on the sender's thread only
(time.thread_time). Statements are psycopg's `execute` calls, transactions the store's
`reading()` / `writing()` blocks, HTTP calls what the fake answered. `--profile PATH` also
writes the sender's cProfile statistics (pstats) for the sending phase.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import time
from collections import Counter
from typing import Any

import psycopg

from bot.store.postgres import PostgresStore
from tests import pg_server
from tests.slack.fake_slack import FakeSlack
from tests.weekly.counting import Counted
from tests.weekly.harness import TEST_SECRET, simulated_runner
from tests.weekly.scale import DUE, populate

DATA, KEYS = "reflect_data", "reflect_keys"


class Clock:
    """Real time from `start` (the due moment), so pacing waits are real."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self.began)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


def measure(*, people: int, profile: str | None = None) -> dict[str, Any]:
    server = pg_server.start(databases=(DATA, KEYS))
    fake = FakeSlack().start()
    try:
        for database in (DATA, KEYS):
            with psycopg.connect(server.url(database), autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS cost CASCADE")
                conn.execute("CREATE SCHEMA cost")
        urls = {d: f"{server.url(d)}&options=-c%20search_path%3Dcost" for d in (DATA, KEYS)}
        store = PostgresStore.open(urls[DATA], keys_url=urls[KEYS], secret=TEST_SECRET, pool_size=2)
        populate(store=store, keyring=store.keyring, fake=fake, people=people)
        counted = Counted(store)
        clock = Clock(DUE + dt.timedelta(seconds=1))
        runner = simulated_runner(
            db=counted, keyring=store.keyring, slack_url=fake.url, clock=clock, interval=1 / 5000
        )
        phases: dict[str, Any] = {}
        for phase, step in (
            ("plan", lambda: runner.planner.plan(now=clock())),
            ("send", lambda: runner.sender.send_due()),
        ):
            calls_before = len(fake.calls())
            counts_before = Counter(counted.counts)
            cpu, wall = time.thread_time(), time.monotonic()
            profiler = cProfile.Profile() if profile and phase == "send" else None
            if profiler:
                profiler.enable()
            step()
            if profiler and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            cpu, wall = time.thread_time() - cpu, time.monotonic() - wall
            calls = Counter(call.method for call in fake.calls()[calls_before:])
            counts = Counter(counted.counts)
            counts.subtract(counts_before)
            phases[phase] = {
                "cpu_s": round(cpu, 2),
                "wall_s": round(wall, 2),
                "http": dict(calls),
                "db": dict(counts),
            }
        posts = len(fake.calls("chat.postMessage"))
        send = phases["send"]
        per_post = {
            "statements": round(send["db"].get("statements", 0) / posts, 2),
            "transactions": round(
                (send["db"].get("reads", 0) + send["db"].get("writes", 0)) / posts, 2
            ),
            "http_calls": round(sum(send["http"].values()) / posts, 2),
            "sender_cpu_ms": round(1000 * send["cpu_s"] / posts, 2),
            "posts_per_real_second": round(posts / send["wall_s"], 1),
        }
        store.close()
        return {"people": people, "posts": posts, "per_post": per_post, "phases": phases}
    finally:
        fake.stop()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.weekly_cost")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--profile", default=None, help="write the sending phase's pstats here")
    args = parser.parse_args(argv)
    print(json.dumps(measure(people=args.people, profile=args.profile), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
