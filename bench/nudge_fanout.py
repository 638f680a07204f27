"""Nudge fan-out: N people in one team, through the weekly planner and sender, against a fake
Slack (bench.nudge_slack, its own process) that allows `rate` chat.postMessage calls a second
and answers 429 with Retry-After beyond it.

The scheduler runs as `reflect run` runs it: a real clock, real sleeps, the real WebClient
port (WebReminderSlack) over loopback, a durable (synchronous=FULL) SQLite ledger. Its pacing
interval is set to 1/rate: the knob that corresponds to Slack's limit (1 s in production,
Slack's per-channel rate; a workspace allows more). The clock starts at a Friday 16:00:30 in
London so that the whole team is due at once: the worst case for a burst.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import processes, report
from bot.weekly.due import WeeklyTime
from bot.weekly.service import starting_at
from tests.slack.fake_slack import FakeSlack
from tests.weekly.harness import World, connect

RATE = 100.0
PEOPLE = 10_000
#: Friday 27 November 2026, 16:00:30 UTC: 16:00 in London (GMT) has just passed.
FRIDAY = dt.datetime(2026, 11, 27, 16, 0, 30, tzinfo=dt.UTC)
AIM = 0.9


class RealClock:
    """The real passage of time, from FRIDAY: what `reflect nudges run-once --now` uses."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = starting_at(start)

    def __call__(self) -> dt.datetime:
        return self._now()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


@dataclass(frozen=True)
class Fanout:
    people: int
    rate: float
    pace: float
    plan_seconds: float
    send_seconds: float
    rounds: int
    accepted: int
    refused: int
    duplicates: int
    losses: int
    achieved: float
    states: dict[str, int]


def run(*, people: int = PEOPLE, rate: float = RATE, pace: float = 1.0) -> Fanout:
    """`pace`: the sender's pacing rate as a multiple of the allowed rate (above 1: it will
    meet 429s, as two bot processes sharing one app's limit would)."""
    command = [
        sys.executable,
        "-m",
        "bench.nudge_slack",
        "--people",
        str(people),
        "--rate",
        str(rate),
        "--epoch",
        str(FRIDAY.timestamp()),
    ]
    fake = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=processes.ROOT,
        env=processes.python_env(),
        text=True,
    )
    assert fake.stdin is not None and fake.stdout is not None
    try:
        url = fake.stdout.readline().strip()
        with tempfile.TemporaryDirectory(prefix="reflect-bench-") as folder:
            clock = RealClock(FRIDAY)
            world = World(
                db_path=Path(folder) / "reflect.db",
                workspace=FakeSlack(),  # not started: the workspace lives in the other process
                api_url=url,
                clock=clock,  # type: ignore[arg-type]
            )
            world.switch_on(
                "CTEAM",
                when=WeeklyTime(day=4, time=dt.time(16, 0)),
                at=FRIDAY - dt.timedelta(days=7),
            )
            runner = world.runner(interval=1.0 / (rate * pace))
            print(f"  nudges: planning {people:,} people", flush=True)
            began = time.perf_counter()
            runner.planner.plan(now=clock())
            plan_seconds = time.perf_counter() - began
            print(f"  nudges: planned in {plan_seconds:.1f} s; sending", flush=True)
            began = time.perf_counter()
            rounds = 0
            while True:  # rounds until nothing is left to send (rows given back come again)
                rounds += 1
                outcome = runner.run_once()
                print(f"  nudges: round {rounds}: {outcome.send}", flush=True)
                left = _states(world.db_path)
                if not left.get("due") and not left.get("claimed"):
                    break
                if outcome.next_wake is not None:
                    time.sleep(max(0.0, (outcome.next_wake - clock()).total_seconds()))
                if rounds > 20:
                    break
            send_seconds = time.perf_counter() - began
            states = _states(world.db_path)
        fake.stdin.write("report\n")
        fake.stdin.flush()
        facts = json.loads(fake.stdout.readline())
    finally:
        fake.stdin.close()
        try:
            fake.wait(timeout=10)
        except subprocess.TimeoutExpired:
            fake.kill()
    counts: list[int] = facts["counts"]
    accepted: list[float] = facts["accepted"]
    span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    achieved = (len(accepted) - 1) / span if span else 0.0
    return Fanout(
        people=people,
        rate=rate,
        pace=pace,
        plan_seconds=plan_seconds,
        send_seconds=send_seconds,
        rounds=rounds,
        accepted=len(accepted),
        refused=int(facts["refused"]),
        duplicates=sum(max(0, count - 1) for count in counts),
        losses=sum(1 for count in counts if count == 0),
        achieved=achieved,
        states=states,
    )


def _states(path: Path) -> dict[str, int]:
    connection = connect(path)
    try:
        rows = connection.execute(
            "SELECT state, COUNT(*) FROM reminder_ledger GROUP BY state"
        ).fetchall()
    finally:
        connection.close()
    return {str(state): int(count) for state, count in rows}


def markdown(results: list[Fanout]) -> str:
    return "\n\n".join(_one(result) for result in results)


def _one(result: Fanout) -> str:
    ratio = result.achieved / result.rate
    rows = [
        ("Sender paced at", f"{result.pace:.2f}x the allowed rate"),
        ("People in the team", f"{result.people:,}"),
        (
            "Allowed chat.postMessage rate",
            f"{result.rate:.0f}/s (bursts of {max(1, result.rate / 10):.0f})",
        ),
        ("Planning (members, users.info, ledger rows)", f"{result.plan_seconds:.1f} s"),
        ("Sending", f"{result.send_seconds:.1f} s in {result.rounds} round(s)"),
        ("Posts accepted", f"{result.accepted:,}"),
        ("429s answered", f"{result.refused:,}"),
        ("Achieved rate (first to last accepted post)", f"{result.achieved:.1f}/s"),
        ("Achieved / allowed", f"{ratio:.3f}"),
        ("Duplicates (a person nudged twice)", result.duplicates),
        ("Losses (a person not nudged)", result.losses),
        (
            "Ledger rows by state",
            ", ".join(f"{k} {v:,}" for k, v in sorted(result.states.items())),
        ),
    ]
    exact = result.duplicates == 0 and result.losses == 0
    if result.pace <= 1.0:
        aim = (
            f"Aim: achieved/allowed at least {AIM}, no duplicates, no losses: "
            f"{report.verdict(ratio >= AIM and exact)}."
        )
    else:
        aim = (
            "A sender paced faster than Slack allows (as two bot processes sharing one app's "
            f"limit would be): no duplicates, no losses: {report.verdict(exact)}; "
            f"achieved/allowed {ratio:.2f} "
            f"({report.verdict(ratio >= AIM)} against the {AIM} aim; see the notes)."
        )
    return report.table(("", "Figure"), rows) + "\n\n" + aim
