"""A weekly-reminders process for the multi-process tests and the scale benchmark: rounds of
planning and sending against the fake Slack until `--until`, on a clock that reads `--epoch`
at wall time `--start` and runs `--speed` times faster than real time (its sleeps too), or
`--fast` times until `--fast-until` and `--speed` times after.

    python -m tests.weekly.sender_process --db PATH_OR_URL [--keys-url URL] --slack URL \\
        --epoch ISO --start WALL_SECONDS --speed 1 --interval SECONDS --until ISO

`--db`: an SQLite file, or the data URL of PostgreSQL (then `--keys-url` too). Prints one line
of JSON when it ends: what it sent and found already sent, and its CPU seconds (only those
when stopped with SIGTERM).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import time
from pathlib import Path

from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.weekly.harness import TEST_SECRET, simulated_runner


class Accelerated:
    """`epoch` at wall time `start`, then `speed` simulated seconds per real second; or, when
    `fast` and `fast_until` are given, `fast` simulated seconds per real second until the clock
    reads `fast_until`, and `speed` after that (its sleeps follow the same clock)."""

    def __init__(
        self,
        *,
        epoch: dt.datetime,
        start: float,
        speed: float,
        fast: float | None = None,
        fast_until: dt.datetime | None = None,
    ) -> None:
        self.epoch = epoch
        self.start = start
        self.speed = speed
        self.fast = fast if fast and fast_until and fast_until > epoch else speed
        self.fast_until = fast_until if self.fast != speed and fast_until else epoch
        #: Wall time at which the clock reads `fast_until`.
        self.switch = start + (self.fast_until - epoch).total_seconds() / self.fast

    def at(self, wall: float) -> dt.datetime:
        if wall < self.switch:
            return self.epoch + dt.timedelta(seconds=(wall - self.start) * self.fast)
        return self.fast_until + dt.timedelta(seconds=(wall - self.switch) * self.speed)

    def wall(self, moment: dt.datetime) -> float:
        """The wall time at which the clock reads `moment`."""
        if moment < self.fast_until:
            return self.start + (moment - self.epoch).total_seconds() / self.fast
        return self.switch + (moment - self.fast_until).total_seconds() / self.speed

    def __call__(self) -> dt.datetime:
        return self.at(time.time())

    def sleep(self, seconds: float) -> None:
        now = time.time()
        target = self.wall(self.at(now) + dt.timedelta(seconds=max(seconds, 0.0)))
        time.sleep(max(target - now, 0.0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--keys-url")
    parser.add_argument("--slack", required=True)
    parser.add_argument("--epoch", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--fast", type=float, default=None, help="speed until --fast-until")
    parser.add_argument("--fast-until", default=None)
    parser.add_argument("--interval", type=float, required=True)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--until", required=True)
    parser.add_argument("--poll", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=None, help="stop after this many rounds")
    args = parser.parse_args(argv)
    clock = Accelerated(
        epoch=dt.datetime.fromisoformat(args.epoch),
        start=args.start,
        speed=args.speed,
        fast=args.fast,
        fast_until=dt.datetime.fromisoformat(args.fast_until) if args.fast_until else None,
    )
    until = dt.datetime.fromisoformat(args.until)
    store: SqliteStore | PostgresStore
    if args.keys_url:
        store = PostgresStore.open(args.db, keys_url=args.keys_url, secret=TEST_SECRET, pool_size=3)
    else:
        store = SqliteStore.open(Path(args.db), secret=TEST_SECRET)
    runner = simulated_runner(
        db=store,
        keyring=store.keyring,
        slack_url=args.slack,
        clock=clock,
        interval=args.interval,
        lease=dt.timedelta(seconds=args.lease),
    )
    sent = found = rounds = 0

    def stopped(*_: object) -> None:  # stopped from outside: say what it cost, then end
        print(json.dumps({"cpu": time.process_time(), "stopped": True}), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stopped)
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
    cpu = time.process_time()
    print(json.dumps({"sent": sent, "found": found, "rounds": rounds, "cpu": cpu}), flush=True)


if __name__ == "__main__":
    main()
