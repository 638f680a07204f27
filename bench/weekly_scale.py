"""Weekly reminders at scale: 3 sender processes (real OS processes) on PostgreSQL against the
fake Slack, one killed with SIGKILL mid-run, once paced at the allowed rate and once 1.25x too
fast (tests/weekly/scale.py says what is simulated and how).

    python -m bench.weekly_scale --together --update BENCHMARKS.md   # 10,000 people (make bench)
    python -m bench.weekly_scale --people 100000 --together --update BENCHMARKS.md  # full size

Time is simulated (one clock for the processes and the fake Slack, `--speed` times real time),
because a week's worth of Slack limits does not fit in a benchmark run; everything else is
real: processes, PostgreSQL (tests/pg_server.py), HTTP to the fake Slack, its rate limits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from bench import report
from bench.safety_screen import update
from bot.store.postgres import PostgresStore
from tests import pg_server
from tests.slack.fake_slack import FakeSlack
from tests.weekly.harness import TEST_SECRET
from tests.weekly.scale import Outcome, Scenario, populate, run

SECTION = "9. Weekly reminders at scale: processes on PostgreSQL, one killed"
AIM = 0.95
#: What `make bench` runs (both paces at once: about ten minutes here); the issue's full
#: size is `--people 100000` (about an hour here, see BENCHMARKS.md section 9).
PEOPLE = 10_000
#: Posts a real second the machine is asked to keep up with (the simulated clock's speed
#: follows from it and the allowed rate).
REAL_RATE = 40.0
DATA, KEYS = "reflect_data", "reflect_keys"


def command(people: int, processes: int, allowed: float, speed: float, real_rate: float) -> str:
    return (
        f"python -m bench.weekly_scale --people {people} --processes {processes} "
        f"--allowed {allowed:g} --speed {speed:g} --real-rate {real_rate:g} --update BENCHMARKS.md"
    )


def run_one(server: pg_server.PgServer, scenario: Scenario, *, name: str) -> Outcome:
    urls = {}
    for database in (DATA, KEYS):
        with psycopg.connect(server.url(database), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            conn.execute(f"CREATE SCHEMA {name}")
        urls[database] = f"{server.url(database)}&options=-c%20search_path%3D{name}"
    fake = FakeSlack().start()
    store = PostgresStore.open(urls[DATA], keys_url=urls[KEYS], secret=TEST_SECRET, pool_size=2)
    try:
        print(f"  {name}: {scenario.people:,} people, {scenario.processes} processes", flush=True)
        populate(store=store, keyring=store.keyring, fake=fake, people=scenario.people)

        def states() -> dict[str, int]:
            with psycopg.connect(urls[DATA], autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT state, count(*) FROM reminder_ledger GROUP BY state"
                ).fetchall()
            return {str(state): int(n) for state, n in rows}

        return run(
            scenario,
            fake=fake,
            database=["--db", urls[DATA], "--keys-url", urls[KEYS]],
            states=states,
            timeout=6 * 3600,
            say=lambda line: print(line, flush=True),
        )
    finally:
        store.close()
        fake.stop()


def markdown(outcomes: list[Outcome], *, command_line: str, together: bool = False) -> str:
    first = outcomes[0].scenario
    rows = []
    for outcome in outcomes:
        s = outcome.scenario
        rows.append(
            (
                f"{s.pace:.2f}x",
                f"{s.people:,} / {max(1, s.people // 100):,}",
                str(s.processes) + (" (1 killed)" if outcome.killed else ""),
                f"{s.allowed:g}/s",
                f"{outcome.achieved:.3f}/s",
                f"{outcome.ratio:.3f}",
                f"{outcome.refused:,}",
                str(outcome.duplicates),
                str(outcome.losses),
                f"{outcome.latest / 60:.1f} min",
                ", ".join(f"{k} {v:,}" for k, v in sorted(outcome.states.items())),
                f"{outcome.real_seconds:.0f} s",
                f"{1000 * outcome.cpu / max(1, len(outcome.accepted)):.1f} ms",
            )
        )
    table = report.table(
        (
            "Paced at",
            "People / teams",
            "Processes",
            "Allowed posts",
            "Achieved",
            "Achieved / allowed",
            "429s",
            "Duplicates",
            "Losses",
            "Latest after due",
            "Ledger",
            "Real time",
            "Sender CPU a post",
        ),
        rows,
    )
    ok = all(
        o.duplicates == 0 and o.losses == 0 and o.ratio >= AIM and o.latest < 3600 for o in outcomes
    )
    return "\n".join(
        [
            f"Command: `{command_line}`",
            "",
            "Everyone is due in the same hour (each team's time set where it is so: the worst "
            "case), 24 time zones, teams of 100. Rates are per simulated second; the processes "
            "and the fake Slack share one simulated clock (see tests/weekly/scale.py). Slack's "
            "tiers are enforced on the other methods (users.list 20/min, conversations.members "
            "100/min...) and chat.postMessage's allowed rate with bursts of five seconds' worth. "
            "Pacing is shared through the database and backs off on 429s (AIMD). One process "
            "is killed with SIGKILL a third of the way through. "
            f"Planning starts {first.lead / 60:.0f} simulated minutes before everyone is due, "
            f"from cold (no member list or profile known), on a clock running {first.fast:g}x "
            f"real time until they are due and {first.speed:g}x after. "
            + ("Both paces ran at the same time, sharing the machine. " if together else "")
            + f"`make bench` runs {PEOPLE:,} people; the issue's full size is "
            "`--people 100000`. Sender CPU a post: the CPU time the surviving processes "
            "reported (planning included) over all posts.",
            "",
            table,
            "",
            f"Aim: no duplicates, no losses, everyone within their local hour, achieved/allowed "
            f"at least {AIM}, also 1.25x too fast: {report.verdict(ok)}.",
        ]
    )


def lead_for(people: int) -> float:
    """Simulated seconds of planning ahead a cold start needs at Slack's limits: every team's
    members (conversations.members, 100 a minute) and everyone's profile (users.list, 20 pages
    of 200 a minute), with a third to spare; at least five minutes."""
    teams = max(1, people // 100)
    minutes = teams / 100 + people / 200 / 20
    return max(300.0, round(minutes * 60 * 1.33 + 120))


def section(
    *,
    people: int,
    processes: int,
    allowed: float | None = None,
    speed: float | None = None,
    real_rate: float = REAL_RATE,
    lead_seconds: float | None = None,
    together: bool = False,
    paces: tuple[float, ...] = (1.0, 1.25),
) -> str:
    """Run both scenarios (paced at the allowed rate, and 1.25x too fast) and describe them.
    Everyone is sent in about 40 simulated minutes at the allowed rate; the simulated clock
    runs slowly enough for the machine to follow that rate (`real_rate` posts a real second),
    and planning ahead (mostly waiting out Slack's limits) takes about `lead_seconds` real
    (by default 90 s, or 300 s for 100,000 people).
    `together`: both at the same time (each with its own processes, fake Slack and schema on
    one PostgreSQL server), sharing the machine, to halve the time a large run takes."""
    allowed = allowed or round(people / 2400, 2)
    speed = speed or round(real_rate / allowed, 2)
    lead = lead_for(people)
    # Planning ahead costs CPU as well as waits (100,000 profiles sealed and written...): on a
    # clock running too fast, a busy machine's seconds become simulated minutes.
    lead_seconds = lead_seconds or max(90.0, people / 333)
    fast = max(speed, round(lead / lead_seconds, 1))
    scenarios = [
        Scenario(
            people=people,
            processes=processes,
            allowed=allowed,
            pace=pace,
            speed=speed,
            kill_after=people // 3,
            lead=lead,
            fast=fast,
            poll=10.0,
        )
        for pace in paces
    ]
    server = pg_server.start(databases=(DATA, KEYS))
    try:
        if together:  # both at once, each with its own processes, fake Slack and schema
            with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
                outcomes = list(pool.map(lambda s: _run_and_say(server, s), scenarios))
        else:
            outcomes = [_run_and_say(server, scenario) for scenario in scenarios]
    finally:
        server.stop()
    line = command(people, processes, allowed, speed, real_rate) + (
        " --together" if together else ""
    )
    return markdown(outcomes, command_line=line, together=together)


def _run_and_say(server: pg_server.PgServer, scenario: Scenario) -> Outcome:
    name = f"scale_{os.getpid()}_{int(scenario.pace * 100)}"
    outcome = run_one(server, scenario, name=name)
    times, allowed = outcome.accepted, scenario.allowed
    tenth = max(1, len(times) // 10)
    spans = [
        round(tenth / max(1e-9, times[i + tenth] - times[i]) / allowed, 2)
        for i in range(0, len(times) - tenth, tenth)
    ]
    print(
        f"  paced {scenario.pace}x: ratio {outcome.ratio:.3f}, duplicates {outcome.duplicates},"
        f" losses {outcome.losses}, latest {outcome.latest / 60:.1f} min,"
        f" {outcome.real_seconds:.0f} s; by tenths {spans}; sender CPU {outcome.cpu:.0f} s",
        flush=True,
    )
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.weekly_scale")
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--allowed", type=float, default=None, help="posts a simulated second")
    parser.add_argument("--speed", type=float, default=None, help="simulated s per real s")
    parser.add_argument("--real-rate", type=float, default=REAL_RATE, help="posts a real second")
    parser.add_argument("--together", action="store_true", help="run both paces at once")
    parser.add_argument("--paces", default="1,1.25", help="the paces to run (default 1,1.25)")
    parser.add_argument("--update", type=Path, default=None)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server on the way out
    body = section(
        people=args.people,
        processes=args.processes,
        allowed=args.allowed,
        speed=args.speed,
        real_rate=args.real_rate,
        together=args.together,
        paces=tuple(float(p) for p in args.paces.split(",")),
    )
    print(body)
    if args.update is not None:
        update(args.update, body, title=SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
