"""Ack latency over HTTP on loopback: `reflect run --http` against a bare Bolt app whose
listeners only ack, behind the same waitress server, under the same load.

Four processes: the fake Slack Web API (bench.slack_server), the two servers under
measurement, and this one generating load (bench.load). Both servers are started, warmed up,
and then measured in alternating rounds (bare, Reflect, bare, Reflect...), each a share of the
time, so that whatever else the shared machine does at the time weighs on both alike; every
round's p99 is reported too, to show how steady the figures were.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import load, processes, report

RATE = 100.0
LEADERS = 50
ROUNDS = 3
WARM_UP_SECONDS = 3.0
AIM_P99 = 0.100
AIM_RATIO = 1.5
NAMES = ("bare Bolt", "Reflect")


@dataclass
class Run:
    name: str
    results: load.Results = field(default_factory=load.Results)
    rounds: list[float] = field(default_factory=list)  # each round's p99
    #: Lines the server logged at WARNING or above (the bot logs no ids or text).
    complaints: list[str] = field(default_factory=list)

    def p(self, fraction: float, kind: str | None = None) -> float:
        values = self.results.latencies.get(kind, []) if kind else self.results.all_latencies
        return report.percentile(values, fraction)

    def add(self, results: load.Results) -> None:
        self.rounds.append(report.percentile(results.all_latencies, 0.99))
        for kind, values in results.latencies.items():
            self.results.latencies.setdefault(kind, []).extend(values)
        self.results.statuses.update(results.statuses)
        self.results.failures.update(results.failures)
        self.results.sent += results.sent
        self.results.seconds += results.seconds


@contextlib.contextmanager
def _server(name: str, *, slack_url: str, folder: Path) -> Iterator[str]:
    port = processes.free_port()
    env = processes.bot_env(slack_url=slack_url, folder=folder)
    start = processes.start_reflect if name == "Reflect" else processes.start_bare
    process: subprocess.Popen[bytes] = start(port=port, env=env, folder=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_ready(url, process=process)
        yield url
    finally:
        code = processes.stop(process)
        if code not in (0, -15):
            print(f"  {name} exited with {code}", flush=True)


def _complaints_in(log: Path) -> list[str]:
    return [
        line
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line or "Traceback" in line
    ]


def run(*, seconds: float, rate: float = RATE, rounds: int = ROUNDS) -> list[Run]:
    runs = {name: Run(name) for name in NAMES}
    users = LEADERS * (rounds + 1)
    with (
        processes.fake_slack(users=users) as slack_url,
        tempfile.TemporaryDirectory(prefix="reflect-bench-") as bare_dir,
        tempfile.TemporaryDirectory(prefix="reflect-bench-") as reflect_dir,
    ):
        folders = {"bare Bolt": Path(bare_dir), "Reflect": Path(reflect_dir)}
        with (
            _server("bare Bolt", slack_url=slack_url, folder=folders["bare Bolt"]) as bare,
            _server("Reflect", slack_url=slack_url, folder=folders["Reflect"]) as reflect,
        ):
            urls = {"bare Bolt": bare, "Reflect": reflect}
            for name in NAMES:  # warm-up, not counted: the last block of users
                load.run(
                    url=urls[name],
                    secret=processes.SIGNING_SECRET,
                    rate=rate,
                    seconds=WARM_UP_SECONDS,
                    leaders=LEADERS,
                    first_user=LEADERS * rounds,
                    progress=lambda text: None,
                )
            for number in range(rounds):
                for name in NAMES:
                    print(f"  ack latency: {name}, round {number + 1}", flush=True)
                    runs[name].add(
                        load.run(
                            url=urls[name],
                            secret=processes.SIGNING_SECRET,
                            rate=rate,
                            seconds=seconds / rounds,
                            leaders=LEADERS,
                            first_user=LEADERS * number,  # fresh leaders each round
                        )
                    )
        runs["Reflect"].complaints = _complaints_in(folders["Reflect"] / "reflect.log")
        runs["bare Bolt"].complaints = _complaints_in(folders["bare Bolt"] / "bare.log")
    return [runs[name] for name in NAMES]


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def markdown(runs: list[Run], *, seconds: float, rate: float = RATE) -> str:
    bare, reflect = runs
    rows: list[tuple[object, ...]] = []
    for run in runs:
        other = sum(count for status, count in run.results.statuses.items() if status != 200)
        rows.append(
            (
                run.name,
                run.results.sent,
                f"{run.results.rate:.1f}",
                report.ms(run.p(0.50)),
                report.ms(run.p(0.95)),
                report.ms(run.p(0.99)),
                report.ms(max(run.results.all_latencies, default=math.nan)),
                other + sum(run.results.failures.values()),
            )
        )
    ratio = {q: reflect.p(q) / bare.p(q) for q in (0.50, 0.95, 0.99)}
    rows.append(
        (
            "Reflect / bare",
            "",
            "",
            f"{ratio[0.50]:.2f}x",
            f"{ratio[0.95]:.2f}x",
            f"{ratio[0.99]:.2f}x",
            "",
            "",
        )
    )
    main = report.table(
        ("Server", "Requests", "Achieved req/s", "p50", "p95", "p99", "max", "Not 200"), rows
    )
    main += "\n\nEach round's p99, in the order run: " + "; ".join(
        f"{run.name}: " + ", ".join(report.ms(value) for value in run.rounds) for run in runs
    )
    main += f". Load average when the measurement ended: {load_average()}."
    kinds = []
    for kind in ("command", "event", "click"):
        kinds.append(
            (
                kind,
                report.ms(bare.p(0.50, kind)),
                report.ms(bare.p(0.99, kind)),
                report.ms(reflect.p(0.50, kind)),
                report.ms(reflect.p(0.99, kind)),
            )
        )
    by_kind = report.table(("Request", "bare p50", "bare p99", "Reflect p50", "Reflect p99"), kinds)
    p99 = reflect.p(0.99)
    return (
        f"{LEADERS} concurrent leaders at {rate:.0f} requests/s in all, for {seconds:.0f} s per "
        f"server in {len(reflect.rounds)} alternating rounds (after a {WARM_UP_SECONDS:.0f} s "
        "warm-up each): each leader says hi by DM, types "
        "`/reflect hard-day`, answers by DM, clicks a scale button, answers by DM, clicks a "
        "choice, types `/reflect stop`, and again. Latency is from the moment a request was due "
        "to its response (the ack).\n\n"
        + main
        + "\n\nBy kind of request:\n\n"
        + by_kind
        + f"\n\nAim: Reflect's p99 under 100 ms at 100 requests/s: {report.verdict(p99 < AIM_P99)} "
        f"({report.ms(p99)}). Within 1.5x of bare Bolt at p99: "
        f"{report.verdict(ratio[0.99] <= AIM_RATIO)} ({ratio[0.99]:.2f}x).\n\n"
        + _complaints(reflect)
    )


def _complaints(run: Run) -> str:
    queued = [line for line in run.complaints if "waitress.queue" in line]
    stale = [line for line in run.complaints if "chat.update: message_not_found" in line]
    other = [line for line in run.complaints if line not in queued and line not in stale]
    text = (
        f"During the run waitress warned {len(queued)} times that requests were queued (all "
        f"its threads busy). Reflect logged {len(stale)} refused chat.update calls (expected: "
        "the load generator's clicks name a message the fake Slack never held, so updating "
        "it to show the answer is refused, after the ack) and "
        f"{len(other)} other warnings or errors"
    )
    return text + (f" (first: `{other[0][:200]}`)." if other else ".")
