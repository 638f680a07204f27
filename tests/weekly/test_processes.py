"""Two bot processes on one database, and a process killed mid-run: each nudge is sent once.

Real processes take a few seconds to start and run, so these are in `make bench`; the same
properties are shown in the fast suite with threads and with a crash injected at every step
(test_exactly_once.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.weekly.sender import LEASE
from tests.weekly.harness import World

pytestmark = pytest.mark.bench
ROOT = Path(__file__).resolve().parents[2]
FRIDAY_4PM = dt.datetime(2026, 10, 30, 16, tzinfo=dt.UTC)


def _process(world: World, *, now: dt.datetime, interval: float) -> subprocess.Popen[str]:
    database = ["--db", world.database]
    if world.pg is not None:
        database += ["--keys-url", world.pg.keys_url]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.weekly.sender_process",
            *database,
            "--slack",
            world.api_url,
            "--epoch",
            now.isoformat(),
            "--start",
            repr(time.time()),
            "--interval",
            str(interval),
            "--until",
            (now + dt.timedelta(hours=1)).isoformat(),
            "--rounds",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_two_processes_on_one_database_send_each_nudge_once(world: World) -> None:
    world.workspace.limits.clear()  # the processes run in real time, not the test's clock
    users = world.team(40)
    world.clock.set(FRIDAY_4PM)  # the fake Slack's timestamps
    processes = [_process(world, now=FRIDAY_4PM, interval=0.01) for _ in range(2)]
    outputs = [process.communicate(timeout=60) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    sent = sum(json.loads(out)["sent"] for out, _ in outputs)
    assert sent == 40
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)


def test_a_process_killed_mid_run_loses_and_duplicates_nothing(world: World) -> None:
    world.workspace.limits.clear()
    users = world.team(30)
    world.clock.set(FRIDAY_4PM)
    victim = _process(world, now=FRIDAY_4PM, interval=0.05)
    deadline = time.monotonic() + 30
    while sum(world.workspace.reminder_counts().values()) < 8:
        assert time.monotonic() < deadline, victim.stderr.read() if victim.stderr else ""
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert 0 < sum(world.workspace.reminder_counts().values()) < 30
    # Restarted after the dead process's lease ran out (it claimed its last row up to a
    # minute of its clock after it started: it was killed within seconds).
    again = _process(world, now=FRIDAY_4PM + LEASE + dt.timedelta(minutes=1), interval=0.0)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert world.workspace.reminder_counts() == dict.fromkeys(users, 1)
    states = world.query("SELECT DISTINCT state FROM reminder_ledger")
    assert [row["state"] for row in states] == ["sent"]
