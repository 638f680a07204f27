"""Ack latency over HTTP on loopback: `reflect run --http` against a bare Bolt app whose
listeners only ack, behind the same waitress server, under the same load.

Three processes: the fake Slack Web API (bench.slack_server), the server under measurement,
and this one generating load (bench.load). The bare app runs first, then Reflect on a fresh
database; each gets a short warm-up that is not counted.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import load, processes, report

RATE = 100.0
LEADERS = 50
WARM_UP_SECONDS = 3.0
AIM_P99 = 0.100
AIM_RATIO = 1.5


@dataclass(frozen=True)
class Run:
    name: str
    results: load.Results
    ready_seconds: float
    #: Lines the server logged at WARNING or above (the bot logs no ids or text).
    complaints: list[str]

    def p(self, fraction: float, kind: str | None = None) -> float:
        values = self.results.latencies.get(kind, []) if kind else self.results.all_latencies
        return report.percentile(values, fraction)


def _measure(name: str, *, slack_url: str, seconds: float, rate: float, folder: Path) -> Run:
    port = processes.free_port()
    env = processes.bot_env(slack_url=slack_url, folder=folder)
    start = processes.start_reflect if name == "Reflect" else processes.start_bare
    process = start(port=port, env=env, folder=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        ready = processes.wait_ready(url, process=process)
        # warm-up: other users, so the measured ones start from the beginning of their script
        load.run(
            url=url,
            secret=processes.SIGNING_SECRET,
            rate=rate,
            seconds=WARM_UP_SECONDS,
            leaders=LEADERS,
            first_user=LEADERS,
            progress=lambda text: None,
        )
        print(f"  ack latency: {name}", flush=True)
        results = load.run(
            url=url,
            secret=processes.SIGNING_SECRET,
            rate=rate,
            seconds=seconds,
            leaders=LEADERS,
            first_user=0,
        )
    finally:
        code = processes.stop(process)
        if code not in (0, -15):
            print(f"  {name} exited with {code}; see {folder}", flush=True)
    log = folder / ("reflect.log" if name == "Reflect" else "bare.log")
    complaints = [
        line
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line or "Traceback" in line
    ]
    return Run(name, results, ready, complaints)


def run(*, seconds: float, rate: float = RATE) -> list[Run]:
    runs = []
    with processes.fake_slack(users=2 * LEADERS) as slack_url:
        for name in ("bare Bolt", "Reflect"):
            with tempfile.TemporaryDirectory(prefix="reflect-bench-") as folder:
                runs.append(
                    _measure(
                        name, slack_url=slack_url, seconds=seconds, rate=rate, folder=Path(folder)
                    )
                )
    return runs


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
        f"{LEADERS} concurrent leaders at {rate:.0f} requests/s in all, for {seconds:.0f} s each "
        f"(after a {WARM_UP_SECONDS:.0f} s warm-up): each leader says hi by DM, types "
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
    other = [line for line in run.complaints if "waitress.queue" not in line]
    text = (
        f"During the run waitress warned {len(queued)} times that requests were queued "
        "(all its threads busy). Other warnings or errors Reflect logged: "
        f"{len(other)}"
    )
    return text + (f" (first: `{other[0][:200]}`)." if other else ".")
