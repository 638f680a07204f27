"""A weekly-reminders process for the multi-process tests and the scale benchmark: rounds of
planning and sending against the fake Slack until `--until`, on a clock that reads `--epoch`
at wall time `--start` and runs `--speed` times faster than real time (its sleeps too).

    python -m tests.weekly.sender_process --db PATH_OR_URL [--keys-url URL] --slack URL \\
        --epoch ISO --start WALL_SECONDS --speed 1 --interval SECONDS --until ISO

`--db`: an SQLite file, or the data URL of PostgreSQL (then `--keys-url` too). Prints one line
of JSON when it ends: what it sent and found already sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from bot.slack.delivery.reminder_api import WebReminderSlack
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.weekly.wiring import build_runner
from tests.weekly.harness import FLOWS, SIX_HOURS, TEST_SECRET


class Accelerated:
    """`epoch` at wall time `start`, then `speed` simulated seconds per real second."""

    def __init__(self, *, epoch: dt.datetime, start: float, speed: float) -> None:
        self.epoch = epoch
        self.start = start
        self.speed = speed

    def __call__(self) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=(time.time() - self.start) * self.speed)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0) / self.speed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--keys-url")
    parser.add_argument("--slack", required=True)
    parser.add_argument("--epoch", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--interval", type=float, required=True)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--until", required=True)
    parser.add_argument("--poll", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=None, help="stop after this many rounds")
    args = parser.parse_args(argv)
    clock = Accelerated(
        epoch=dt.datetime.fromisoformat(args.epoch), start=args.start, speed=args.speed
    )
    until = dt.datetime.fromisoformat(args.until)
    store: SqliteStore | PostgresStore
    if args.keys_url:
        store = PostgresStore.open(args.db, keys_url=args.keys_url, secret=TEST_SECRET, pool_size=3)
    else:
        store = SqliteStore.open(Path(args.db), secret=TEST_SECRET)
    slack = WebReminderSlack(token="xoxb-test", base_url=args.slack, timeout=10)
    runner = build_runner(
        db=store,
        slack=slack,
        keyring=store.keyring,
        flows=FLOWS,
        clock=clock,
        sleep=clock.sleep,
        late_after=SIX_HOURS,
        interval=args.interval,
        lease=dt.timedelta(seconds=args.lease),
    )
    sent = found = rounds = 0
    while clock() < until:
        report = runner.run_once()
        rounds += 1
        sent += report.send.sent
        found += report.send.found
        if args.rounds is not None and rounds >= args.rounds:
            break
        wait = args.poll
        if report.next_wake is not None:
            wait = min(wait, max((report.next_wake - clock()).total_seconds(), 0.5))
        clock.sleep(min(wait, max((until - clock()).total_seconds(), 0.0)))
    store.close()
    print(json.dumps({"sent": sent, "found": found, "rounds": rounds}), flush=True)


if __name__ == "__main__":
    main()
