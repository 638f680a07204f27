"""`python -m bench`: run every benchmark and regenerate BENCHMARKS.md.

    python -m bench                 # the full run (about ten minutes on two cores)
    python -m bench --quick         # a short smoke run: fewer people, seconds instead of 30
    python -m bench --seconds 10    # ack latency for 10 s per server (or REFLECT_BENCH_SECONDS)
    python -m bench --only ack,engine --out /tmp/b.md
    python -m bench --notes-only    # after editing bench/notes.md: no measuring
    python -m bench.conversation_load --update BENCHMARKS.md  # only the processes section
    python -m bench.safety_screen --update BENCHMARKS.md   # only the safety screen's section
    python -m bench.weekly_scale --update BENCHMARKS.md    # only the weekly scale section
    python -m bench.cli_startup --update BENCHMARKS.md     # only the command's start-up (in 4)

Run it on a quiet machine: the figures are only as good as the machine is idle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench import (
    ack_latency,
    cli_startup,
    conversation_load,
    engine_throughput,
    hostile,
    machine,
    memory_startup,
    nudge_fanout,
    report,
    safety_screen,
    weekly_scale,
)

ROOT = Path(__file__).resolve().parent.parent
NOTES = Path(__file__).with_name("notes.md")
ALL = ("ack", "engine", "nudges", "memory", "hostile", "safety", "conversations", "scale")
#: bench/notes.md starts with this heading: what follows it in BENCHMARKS.md is the notes.
NOTES_HEADING = "## Notes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("REFLECT_BENCH_SECONDS") or 30),
        help="ack latency: seconds of load per server (default 30, or REFLECT_BENCH_SECONDS)",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", default=",".join(ALL), help=f"some of {','.join(ALL)}")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--notes-only",
        action="store_true",
        help="measure nothing: put the current bench/notes.md under the figures already in --out",
    )
    args = parser.parse_args(argv)
    if args.notes_only:
        _renote(args.out)
        return 0
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}")
    seconds = min(args.seconds, 5.0) if args.quick else args.seconds
    engine_seconds = 2.0 if args.quick else 10.0
    levels = (0, 1_000, 10_000) if args.quick else engine_throughput.LEVELS
    people = 1_000 if args.quick else nudge_fanout.PEOPLE
    reflections = 10_000 if args.quick else memory_startup.REFLECTIONS
    over_people = 500 if args.quick else 2_000

    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    began = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    sections: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="reflect-bench-") as name:
        shared = Path(name)
        if "ack" in only:
            print("ack latency", flush=True)
            runs = ack_latency.run(seconds=seconds)
            sections.append(
                (
                    "1. Ack latency over HTTP on loopback",
                    ack_latency.markdown(runs, seconds=seconds),
                )
            )
        if "engine" in only:
            print("engine throughput", flush=True)
            levels_done = engine_throughput.run(
                seconds=engine_seconds, levels=levels, keep_in=shared
            )
            sections.append(
                (
                    "2. Engine throughput (real SQLite store, encryption on)",
                    engine_throughput.markdown(levels_done),
                )
            )
        if "nudges" in only:
            print("nudge fan-out", flush=True)
            fanouts = [nudge_fanout.run(people=people)]
            fanouts.append(nudge_fanout.run(people=over_people, pace=1.25))
            sections.append(("3. Weekly nudge fan-out", nudge_fanout.markdown(fanouts)))
        if "memory" in only:
            print("memory and start-up", flush=True)
            seeded = shared / "reflect.db"
            result = memory_startup.run(
                people=people, reflections=reflections, seeded=seeded if seeded.exists() else None
            )
            commands = cli_startup.markdown(cli_startup.run())
            body = memory_startup.markdown(result) + "\n\n" + commands
            sections.append(("4. Start-up time and peak memory", body))
        if "hostile" in only:
            print("hostile traffic", flush=True)
            sections.append(
                (
                    "6. Hostile traffic: pathological text, oversized bodies, slow clients",
                    hostile.markdown(hostile.run(quick=args.quick)),
                )
            )
        if "safety" in only:
            print("safety screen", flush=True)
            sections.append((safety_screen.SECTION, safety_screen.section()))
        if "conversations" in only:
            print("conversation load over processes", flush=True)
            conversation_seconds = 15.0 if args.quick else seconds  # a typed answer a round
            sections.append(
                (
                    conversation_load.SECTION,
                    conversation_load.markdown(
                        conversation_load.run(seconds=conversation_seconds),
                        seconds=conversation_seconds,
                    ),
                )
            )
        if "scale" in only:
            print("weekly reminders at scale", flush=True)
            scale_people = 500 if args.quick else weekly_scale.PEOPLE
            sections.append(
                (
                    weekly_scale.SECTION,
                    weekly_scale.section(people=scale_people, processes=3, together=True),
                )
            )
    took = time.perf_counter() - began
    args.out.write_text(
        _document(command=command, started=started, took=took, sections=sections),
        encoding="utf-8",
    )
    print(f"wrote {args.out} ({took:.0f} s)")
    return 0


def _document(
    *, command: str, started: dt.datetime, took: float, sections: list[tuple[str, str]]
) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (which runs `"
        + command.strip()
        + "` and then the bench-marked tests); do not edit by hand, run it again. "
        f"Run on {started:%Y-%m-%d %H:%M} UTC, took {took / 60:.1f} minutes. "
        "The code is in bench/ (one module per measurement; bench/__init__.py says how they "
        "fit together).",
        "",
        "## Machine",
        "",
        report.table(("", ""), machine.describe()),
        "",
        f"Python executable: `{Path(sys.executable).name}` ({platform.python_version()}). "
        "Every server measured runs in a process of its own; the load generator, the fake "
        "Slack and the bot share the machine's cores.",
    ]
    for title, body in sections:
        parts += ["", f"## {title}", "", body]
    if NOTES.exists():
        parts += ["", NOTES.read_text(encoding="utf-8").strip()]
    return "\n".join(parts) + "\n"


def _renote(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    figures = text.split(NOTES_HEADING, 1)[0].rstrip()
    notes = NOTES.read_text(encoding="utf-8").strip() if NOTES.exists() else ""
    path.write_text(figures + ("\n\n" + notes if notes else "") + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
