"""The setups the conversation-load benchmark compares (bench.conversation_load): their bot
processes, started as an operator would, behind a round-robin balancer each, and what they
logged."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import processes


@dataclass(frozen=True)
class Setup:
    name: str
    processes: int
    postgres: bool


SETUPS = (
    Setup("1 process, SQLite", 1, False),
    Setup("1 process, PostgreSQL", 1, True),
    Setup("3 processes, PostgreSQL", 3, True),
)


def posts(slack_url: str) -> list[tuple[str, float, list[str]]]:
    answer = httpx.post(slack_url + "bench.posts", data={"token": "xoxb-bench"}, timeout=30)
    return [(str(c), float(t), list(ids)) for c, t, ids in answer.json()["posts"]]


@contextlib.contextmanager
def started(
    setup: Setup, *, slack_url: str, folder: Path, database: tuple[str, str] | None
) -> Iterator[str]:
    """The setup's bot processes and their balancer; yields the balancer's URL."""
    extra = {}
    if database is not None:
        extra = {"REFLECT_DATABASE_URL": database[0], "REFLECT_KEYS_DATABASE_URL": database[1]}
    started: list[subprocess.Popen[bytes]] = []
    try:
        backends = []
        for number in range(setup.processes):
            own = folder / f"process-{number + 1}"
            own.mkdir(parents=True)
            env = processes.bot_env(slack_url=slack_url, folder=own, **extra)
            if number == 0 and database is not None:  # as the README says: migrate first
                subprocess.run(
                    [str(processes.BIN / "reflect"), "db", "migrate"],
                    cwd=own,
                    env=env,
                    check=True,
                    capture_output=True,
                )
            port = processes.free_port()
            process = processes.start_reflect(port=port, env=env, folder=own)
            started.append(process)
            processes.wait_ready(f"http://127.0.0.1:{port}", process=process)
            backends.append(f"127.0.0.1:{port}")
        with processes.helper(["-m", "bench.round_robin", *backends]) as port_line:
            yield f"http://127.0.0.1:{int(port_line)}"
    finally:
        for process in started:
            code = processes.stop(process)
            if code not in (0, -15):
                print(f"  {setup.name}: a process exited with {code}", flush=True)


_EXPECTED = re.compile(r"weekly reminders are off|chat\.update: message_not_found")


def complaints(folder: Path) -> list[str]:
    found = []
    for log in sorted(folder.glob("process-*/reflect.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if (" WARNING " in line or " ERROR " in line or "Traceback" in line) and not (
                _EXPECTED.search(line)
            ):
                found.append(line)
    return found
