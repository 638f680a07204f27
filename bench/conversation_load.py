"""Conversation load spread over processes: three `reflect run --http` processes on one
PostgreSQL, compared in the same run with one process on SQLite and one on PostgreSQL.

    python -m bench.conversation_load --update BENCHMARKS.md   # this section only
    python -m bench --only conversations                      # as part of the whole run

Every setup is reached through its own round-robin balancer (bench.round_robin, one TCP
connection per request, so a person's consecutive requests reach different processes); the
single-process setups go through one too, so that every setup pays the same hop. All of them
talk to one fake Slack (bench.timed_slack), which notes when each message is posted. Leaders
play a short script (`leader_script`: a DM, `/reflect hard-day`, a typed answer, a click,
`/reflect stop`, and again) with signed requests on a fixed timetable, and two figures are
taken:

- the ack: from the moment a request was due to its HTTP response;
- the reply: from the moment the typed answer (a DM) was due to the fake Slack's receipt of the
  bot's next question in that DM (the message carrying the next step's block).

The setups are measured in alternating rounds (fresh leaders each round, after a warm-up),
so that whatever else the shared machine does weighs on each alike. The PostgreSQL server is
the test suite's throwaway one (tests/pg_server.py); it and the SQLite files sit in the same
folder (in memory when /dev/shm has room), so neither pays for a disk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import ack_latency, load, processes, report
from bench.conversation_setups import SETUPS, complaints, posts, started
from tests import pg_server
from tests.slack.signing import signed_headers

RATE = 8.0
LEADERS = 8
ROUNDS = 3
WARM_UP_SECONDS = 8.0
#: Seconds to wait after a round for replies still on their way.
SETTLE_SECONDS = 3.0
#: The script position of the typed answer that is timed, and the step the bot asks next.
ANSWER_AT, ASKED_NEXT = 2, "weight"
SECTION = "7. Conversation load over processes (PostgreSQL)"


@dataclass
class Run:
    name: str
    acks: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    unanswered: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    seconds: float = 0.0
    rounds: list[tuple[float, float]] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


@dataclass
class _Round:
    acks: list[float] = field(default_factory=list)
    #: (channel, when the answer was due, the step asked next)
    answers: list[tuple[str, float, str]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    seconds: float = 0.0


# ---------------------------------------------------------------------- load


def leader_script(user: str) -> list[load.Request]:
    """A leader saying hi, starting "After a hard day", typing what happened (the timed
    answer: the bot asks for the day's weight next), clicking a weight, and stopping. Made
    afresh for every round of it, so that each event has an id of its own (a repeated id is a
    retry to the bot, and dropped)."""
    return [
        load._event(user, "hi"),
        load._command(user, "hard-day"),
        load._event(user, "A long shift with two staff off sick, and a hard talk with a family."),
        load._click(user, ASKED_NEXT, 2, "3"),
        load._command(user, "stop"),
    ]


async def _leader(
    client: httpx.AsyncClient, *, user: str, interval: float, start: float, end: float, into: _Round
) -> None:
    script = leader_script(user)
    due, step = start, 0
    while due < end:
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        position = step % len(script)
        if position == 0 and step:
            script = leader_script(user)
        request = script[position]
        step += 1
        headers = signed_headers(
            processes.SIGNING_SECRET, request.body, content_type=request.content_type
        )
        if position == ANSWER_AT:
            into.answers.append((f"D{user}", due, ASKED_NEXT))
        try:
            response = await client.post("/slack/events", content=request.body, headers=headers)
            into.statuses[response.status_code] += 1
        except httpx.HTTPError as error:
            into.failures[type(error).__name__] += 1
        into.acks.append(time.monotonic() - due)
        into.sent += 1
        due += interval


async def _load(url: str, *, rate: float, seconds: float, leaders: int, first: int) -> _Round:
    into = _Round()
    interval = leaders / rate
    # No keep-alive: every request is a new connection, so the balancer spreads requests.
    limits = httpx.Limits(max_connections=leaders, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:
        start = time.monotonic() + 0.2
        end = start + seconds
        await asyncio.gather(
            *(
                _leader(
                    client,
                    user=f"U{first + number:05d}",
                    interval=interval,
                    start=start + interval * number / leaders,
                    end=end,
                    into=into,
                )
                for number in range(leaders)
            )
        )
        into.seconds = time.monotonic() - start
    return into


def _replies(
    answers: list[tuple[str, float, str]], posts: list[tuple[str, float, list[str]]]
) -> tuple[list[float], int]:
    """For each typed answer, the time until its DM received the next step's question."""
    by_channel: dict[str, list[tuple[float, list[str]]]] = {}
    for channel, at, ids in posts:
        by_channel.setdefault(channel, []).append((at, ids))
    for found in by_channel.values():
        found.sort(key=lambda post: post[0])
    waits, unanswered = [], 0
    for channel, due, step in answers:
        suffix = f"|{step}"
        reply = next(
            (
                at
                for at, ids in by_channel.get(channel, [])
                if at >= due and any(block.endswith(suffix) for block in ids)
            ),
            None,
        )
        if reply is None:
            unanswered += 1
        else:
            waits.append(reply - due)
    return waits, unanswered


def run(
    *, seconds: float, rate: float = RATE, leaders: int = LEADERS, rounds: int = ROUNDS
) -> list[Run]:
    runs = {setup.name: Run(setup.name) for setup in SETUPS}
    blocks = rounds + 1  # a block of fresh leaders per round, and one for the warm-up
    server = pg_server.start(
        databases=("bench_one", "bench_one_keys", "bench_three", "bench_three_keys")
    )
    folder = Path(tempfile.mkdtemp(prefix="reflect-bench-", dir=server.root.parent))
    databases = {
        "1 process, PostgreSQL": (server.url("bench_one"), server.url("bench_one_keys")),
        "3 processes, PostgreSQL": (server.url("bench_three"), server.url("bench_three_keys")),
    }
    try:
        with contextlib.ExitStack() as stack:
            users = str(leaders * blocks * len(SETUPS))
            slack_url = stack.enter_context(
                processes.helper(["-m", "bench.timed_slack", "--users", users])
            )
            urls = {}
            for index, setup in enumerate(SETUPS):
                print(f"  conversations: starting {setup.name}", flush=True)
                urls[setup.name] = stack.enter_context(
                    started(
                        setup,
                        slack_url=slack_url,
                        folder=folder / f"setup-{index}",
                        database=databases.get(setup.name),
                    )
                )
            first = {setup.name: index * leaders * blocks for index, setup in enumerate(SETUPS)}
            for setup in SETUPS:  # warm-up, not counted
                asyncio.run(
                    _load(
                        urls[setup.name],
                        rate=rate,
                        seconds=WARM_UP_SECONDS,
                        leaders=leaders,
                        first=first[setup.name] + leaders * rounds,
                    )
                )
            for number in range(rounds):
                for setup in SETUPS:
                    print(f"  conversations: {setup.name}, round {number + 1}", flush=True)
                    done = asyncio.run(
                        _load(
                            urls[setup.name],
                            rate=rate,
                            seconds=seconds / rounds,
                            leaders=leaders,
                            first=first[setup.name] + leaders * number,
                        )
                    )
                    time.sleep(SETTLE_SECONDS)
                    waits, unanswered = _replies(done.answers, posts(slack_url))
                    _add(runs[setup.name], done, waits, unanswered)
        for index, setup in enumerate(SETUPS):
            runs[setup.name].complaints = complaints(folder / f"setup-{index}")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return [runs[setup.name] for setup in SETUPS]


def _add(run: Run, done: _Round, waits: list[float], unanswered: int) -> None:
    run.rounds.append((report.percentile(done.acks, 0.99), report.percentile(waits, 0.99)))
    run.acks += done.acks
    run.replies += waits
    run.unanswered += unanswered
    run.statuses.update(done.statuses)
    run.failures.update(done.failures)
    run.sent += done.sent
    run.seconds += done.seconds


# ---------------------------------------------------------------------- report


def markdown(runs: list[Run], *, seconds: float, rate: float = RATE, leaders: int = LEADERS) -> str:
    rows = []
    for each in runs:
        not_ok = sum(n for status, n in each.statuses.items() if status != 200)
        rows.append(
            (
                each.name,
                each.sent,
                f"{each.rate:.1f}",
                report.ms(report.percentile(each.acks, 0.50)),
                report.ms(report.percentile(each.acks, 0.99)),
                report.ms(report.percentile(each.replies, 0.50)),
                report.ms(report.percentile(each.replies, 0.99)),
                f"{len(each.replies)} / {each.unanswered}",
                not_ok + sum(each.failures.values()),
            )
        )
    table = report.table(
        (
            "Setup",
            "Requests",
            "Achieved req/s",
            "ack p50",
            "ack p99",
            "DM to reply p50",
            "DM to reply p99",
            "Replies timed / missing",
            "Not 200",
        ),
        rows,
    )
    per_round = "; ".join(
        f"{each.name}: "
        + ", ".join(f"{report.ms(ack)} / {report.ms(reply)}" for ack, reply in each.rounds)
        for each in runs
    )
    complaints = "; ".join(
        f"{each.name}: {len(each.complaints)}"
        + (f" (first: `{each.complaints[0][:160]}`)" if each.complaints else "")
        for each in runs
    )
    rounds = len(runs[0].rounds) if runs else 0
    return (
        f"{leaders} concurrent leaders at {rate:.0f} requests/s in all, for {seconds:.0f} s per "
        f"setup in {rounds} alternating rounds (after a {WARM_UP_SECONDS:.0f} s warm-up each), "
        "sized for a 2-core machine that also runs the PostgreSQL server, the fake Slack, the "
        "balancer and the load generator. Each leader plays a short script (says hi by DM, "
        "`/reflect hard-day`, types what happened, clicks a weight, `/reflect stop`, and "
        "again, with fresh event ids each time), every request signed; each request is a new "
        "connection to a round-robin balancer in front of the setup's processes, so a "
        "person's consecutive requests reach different processes. The ack is timed from the "
        "moment a request was due to its response; the reply from the moment the typed answer "
        "was due to the fake Slack's receipt of the next question in that DM (the bot posts it "
        "after the ack).\n\n"
        + table
        + "\n\nEach round's p99 (ack / DM to reply), in the order run: "
        + per_round
        + f". Load average when the measurement ended: {ack_latency.load_average()}. "
        "Warnings or errors the bot processes logged (besides the expected notice that weekly "
        f"reminders are off on PostgreSQL): {complaints}.\n\n"
        "The PostgreSQL server is the test suite's throwaway one (fsync off, in /dev/shm when "
        "there is room); the SQLite files sit in the same folder, so neither setup pays for a "
        "disk: the figures compare the software, not the storage. On two cores, three "
        "processes bring no cores of their own: they share the same two with the PostgreSQL "
        "server, the fake Slack, the balancer and the load generator (one process is held to "
        "about one core by the interpreter lock; three are not, and compete with the rest). "
        "So this shows what spreading a conversation over processes costs and that every "
        "reply still arrives, not the capacity more machines would add."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.conversation_load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of load per setup")
    parser.add_argument("--rate", type=float, default=RATE, help="requests per second in all")
    parser.add_argument("--leaders", type=int, default=LEADERS)
    parser.add_argument("--update", type=Path, help="put the section into this BENCHMARKS.md")
    args = parser.parse_args(argv)
    runs = run(seconds=args.seconds, rate=args.rate, leaders=args.leaders)
    command = "python -m bench.conversation_load " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    body = markdown(runs, seconds=args.seconds, rate=args.rate, leaders=args.leaders)
    body += f"\n\nProduced by `{command.strip()}`."
    if args.update:
        report.put_section(args.update, SECTION, body)
        print(f"updated {args.update}")
    else:
        print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
