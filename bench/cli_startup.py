"""Start-up of the `reflect` command: CPU time (user + system) and wall time of whole runs of
`reflect --help`, `reflect flows list` and `reflect chat` (which lists the flows and, its input
closed, ends), each in a fresh process on an empty data folder. The median of several runs:
CPU time is the steadier figure on a shared machine.

    python -m bench.cli_startup                          # print the table
    python -m bench.cli_startup --update BENCHMARKS.md   # and put it into section 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import report

SECTION = "4. Start-up time and peak memory"
#: The heading of this part of section 4 (the rest is bench.memory_startup's).
HEADING = "### The `reflect` command's start-up"
COMMANDS = {
    "reflect --help": ("--help",),
    "reflect flows list": ("flows", "list"),
    "reflect chat (to the list of flows)": ("chat",),
}
RUNS = 7


@dataclass(frozen=True)
class Startup:
    command: str
    cpu: float
    wall: float
    runs: int


def _once(args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run."""
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"reflect {' '.join(args)} failed: {errors[-500:]}")
    return usage.ru_utime + usage.ru_stime, wall


def run(*, runs: int = RUNS) -> list[Startup]:
    with tempfile.TemporaryDirectory(prefix="reflect-startup-") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REFLECT_"))}
        env |= {"REFLECT_DATA_DIR": data, "REFLECT_TERMINAL_USER": "bench"}
        _once(COMMANDS["reflect chat (to the list of flows)"], env)  # creates the secret key
        measured: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        for _ in range(runs):  # interleaved: a burst of load falls on every command alike
            for name, args in COMMANDS.items():
                measured[name].append(_once(args, env))
    return [
        Startup(
            command=name,
            cpu=statistics.median(cpu for cpu, _ in found),
            wall=statistics.median(wall for _, wall in found),
            runs=len(found),
        )
        for name, found in measured.items()
    ]


def markdown(results: list[Startup]) -> str:
    rows = [(f"`{r.command}`", f"{r.cpu:.2f} s", f"{r.wall:.2f} s") for r in results]
    runs = results[0].runs if results else 0
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{HEADING}\n\n"
        + report.table(("Command", "CPU (user + system)", "Wall"), rows)
        + f"\n\nMedians of {runs} runs each, interleaved, every run a fresh process on an empty "
        f"data folder (`python -m bench.cli_startup`; load average at the end {load}). "
        "`--help` imports no command; a command imports what it uses (the terminal chat no "
        "Slack library); the safety phrase lists are compiled only by what screens text."
    )


def put(path: Path, body: str) -> None:
    """Put `body` into section 4 of the Markdown file at `path`, after the rest of it,
    replacing an earlier one."""
    text = path.read_text(encoding="utf-8")
    heading = f"## {SECTION}"
    if heading not in text:
        report.put_section(path, SECTION, body)
        return
    before, rest = text.split(heading, 1)
    section, *following = rest.split("\n## ", 1)
    section = section.split(f"\n{HEADING}", 1)[0].rstrip("\n")
    after = "\n## " + following[0] if following else ""
    path.write_text(before + heading + section + "\n\n" + body + "\n" + after, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--update", type=Path, help="put the table into this BENCHMARKS.md")
    args = parser.parse_args(argv)
    body = markdown(run(runs=args.runs))
    print(body)
    if args.update is not None:
        put(args.update, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
