"""Many weekly-reminder processes on one database, against the fake Slack, one of them killed
with SIGKILL mid-run: the scenario of the multi-process test (tests/weekly/test_many_processes)
and of the scale benchmark (bench/weekly_scale).

N people in N / 100 teams, the teams spread over 24 time zones (UTC-11 to UTC+12, one team in
each in turn). Each team's weekly time is set where it is so that every team is due in the
same UTC hour: the worst case, everyone due at once. Time is simulated: every process, and the
fake Slack's clock and rate limits, read one clock that runs `speed` times faster than real
time (`fast` times until everyone is due, if given: planning ahead is mostly waiting out
Slack's limits on member lists and profiles), so Slack's limits (per simulated second) and
"within their local hour" (a simulated hour) mean what they would mean in production, at a
pace the machine can follow.

After the run: each person's reminders (the fake's DMs), when each was posted against when it
was due, the accepted post times and 429s, and the ledger's states.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import lead_aad, slack_identity
from tests.slack.fake_slack import FakeSlack, User
from tests.weekly.sender_process import Accelerated

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
#: 24 zones, one per whole-hour offset from UTC-11 to UTC+12 (Etc/GMT+11 is UTC-11).
ZONES = tuple(f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC" for offset in range(-11, 13))
#: Friday 30 October 2026, 12:00 UTC: when every team is due.
DUE = dt.datetime(2026, 10, 30, 12, tzinfo=UTC)
TEAM_SIZE = 100


@dataclass(frozen=True)
class Scenario:
    people: int
    processes: int
    #: chat.postMessage calls the fake allows a (simulated) second.
    allowed: float
    #: The senders' configured rate as a multiple of `allowed` (1.25: too fast).
    pace: float = 1.0
    #: Simulated seconds per real second.
    speed: float = 30.0
    #: Kill process 0 with SIGKILL once this many reminders are out (None: no kill).
    kill_after: int | None = None
    #: The senders' claim lease, in simulated seconds.
    lease: float = 60.0
    #: How long before everyone is due the processes start planning, in simulated seconds.
    lead: float = 300.0
    #: Simulated seconds per real second until everyone is due (None: `speed` throughout):
    #: the lead is mostly waiting out Slack's limits on member lists and profiles.
    fast: float | None = None
    #: How often (simulated seconds) a process with nothing to send looks again.
    poll: float = 60.0


@dataclass
class Outcome:
    scenario: Scenario
    counts: dict[str, int]
    #: Simulated seconds from due to posted, per reminder.
    delays: list[float]
    accepted: list[float]
    refused: int
    states: dict[str, int]
    returncodes: list[int]
    killed: bool
    real_seconds: float
    outputs: list[str] = field(default_factory=list)
    #: CPU seconds of the sender processes that were not killed (as they reported).
    cpu: float = 0.0

    @property
    def duplicates(self) -> int:
        return sum(max(0, count - 1) for count in self.counts.values())

    @property
    def losses(self) -> int:
        return sum(1 for count in self.counts.values() if count == 0)

    @property
    def achieved(self) -> float:
        """Accepted posts a simulated second, first to last."""
        span = self.accepted[-1] - self.accepted[0] if len(self.accepted) > 1 else 0.0
        return (len(self.accepted) - 1) / span if span else 0.0

    @property
    def ratio(self) -> float:
        return self.achieved / self.scenario.allowed

    @property
    def latest(self) -> float:
        return max(self.delays, default=0.0)


def user_id(number: int) -> str:
    return f"U{number:07d}"


def populate(*, store: object, keyring: object, fake: FakeSlack, people: int) -> None:
    """The people (in the fake) and their teams (in the fake, switched on in the store)."""
    teams = Teams(store, keyring=keyring)  # type: ignore[arg-type]
    for team in range(max(1, people // TEAM_SIZE)):
        zone = ZONES[team % len(ZONES)]
        members = [
            user_id(number)
            for number in range(team * TEAM_SIZE, min(people, (team + 1) * TEAM_SIZE))
        ]
        for member in members:
            fake.add_user(User(member, tz=zone))
        channel = f"C{team:06d}"
        fake.add_channel(channel, members)
        local = DUE.astimezone(ZoneInfo(zone))
        lead = keyring.pseudonym(slack_identity(workspace="T1", user="ULEAD"))  # type: ignore[attr-defined]
        teams.switch_on(
            channel=channel,
            workspace="T1",
            when=WeeklyTime(day=local.weekday(), time=local.time()),
            lead=lead,
            lead_sealed=keyring.seal("ULEAD", aad=lead_aad(channel=channel, lead=lead)),  # type: ignore[attr-defined]
            now=DUE - dt.timedelta(days=7),
        )


def run(
    scenario: Scenario,
    *,
    fake: FakeSlack,
    database: list[str],
    states: Callable[[], dict[str, int]],
    timeout: float = 600.0,
    say: Callable[[str], None] = lambda line: None,
) -> Outcome:
    """Start the processes (on `database`: `--db ...` arguments), kill one mid-run if asked,
    wait until the ledger has nothing left to send, stop them, and collect what happened."""
    start = time.time() + 2.0  # the simulated clock starts when every process is up
    epoch = DUE - dt.timedelta(seconds=scenario.lead)  # planning starts before anyone is due
    clock = Accelerated(
        epoch=epoch, start=start, speed=scenario.speed, fast=scenario.fast, fast_until=DUE
    )
    fake.clock = clock
    fake.limit_clock = lambda: clock().timestamp()
    fake.enforce_tiers(post_rate=scenario.allowed)
    # Slack lets a short burst through; here five seconds' worth. With none, a post that is
    # late by a few milliseconds (a busy machine) lets the next, on time, meet a 429.
    fake.limit(
        "chat.postMessage", per_second=scenario.allowed, burst=max(2.0, scenario.allowed * 5)
    )
    until = DUE + dt.timedelta(hours=3)
    command = [
        sys.executable,
        "-m",
        "tests.weekly.sender_process",
        *database,
        "--slack",
        fake.url,
        "--epoch",
        epoch.isoformat(),
        "--start",
        repr(start),
        "--speed",
        str(scenario.speed),
        "--interval",
        str(1.0 / (scenario.allowed * scenario.pace)),
        "--lease",
        str(scenario.lease),
        "--until",
        until.isoformat(),
        "--poll",
        str(scenario.poll),
    ]
    if scenario.fast:
        command += ["--fast", str(scenario.fast), "--fast-until", DUE.isoformat()]
    began = time.monotonic()
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(scenario.processes)
    ]
    killed = False
    expected = scenario.people
    try:
        deadline = began + timeout
        while time.monotonic() < deadline:
            out = len(fake.accepted.get("chat.postMessage", []))
            if not killed and scenario.kill_after is not None and out >= scenario.kill_after:
                processes[0].send_signal(signal.SIGKILL)
                killed = True
                say(f"  killed one process (SIGKILL) after {out:,} reminders")
            if clock() > DUE and out >= expected:
                left = states()
                if not left.get("due") and not left.get("claimed"):
                    break
            if any(p.poll() not in (None, -signal.SIGKILL) for p in processes):
                break  # a process ended on its own: an error, reported below
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        outputs = []
        cpu = 0.0
        for process in processes:
            try:
                said, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                said, err = process.communicate()
            outputs.append(err[-2000:] if err else "")
            cpu += _cpu(said)
    real_seconds = time.monotonic() - began
    counts = {user_id(number): 0 for number in range(expected)}
    delays = []
    for user in counts:
        reminders = fake.reminders_to(user)
        counts[user] = len(reminders)
        delays += [float(message["ts"]) - DUE.timestamp() for message in reminders]
    return Outcome(
        scenario=scenario,
        counts=counts,
        delays=delays,
        accepted=list(fake.accepted.get("chat.postMessage", [])),
        refused=fake.refused.get("chat.postMessage", 0),
        states=states(),
        returncodes=[process.returncode for process in processes],
        killed=killed,
        real_seconds=real_seconds,
        outputs=outputs,
        cpu=cpu,
    )


def _cpu(out: str | None) -> float:
    """The CPU seconds a sender process reported on its way out (0 if it was killed)."""
    for line in reversed((out or "").splitlines()):
        if line.startswith("{"):
            return float(json.loads(line).get("cpu", 0.0))
    return 0.0


def as_json(outcome: Outcome) -> str:
    return json.dumps(
        {
            "people": outcome.scenario.people,
            "duplicates": outcome.duplicates,
            "losses": outcome.losses,
            "ratio": round(outcome.ratio, 4),
        }
    )
