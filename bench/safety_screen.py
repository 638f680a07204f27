"""The safety screen measured on labelled messages (issue 9).

    python -m bench.safety_screen                    # the held-out split (the honest figure)
    python -m bench.safety_screen --split train      # the split the rules were written on
    python -m bench.safety_screen my-set.yaml ...    # any labelled set in the same format
    python -m bench.safety_screen --update BENCHMARKS.md   # rewrite only that file's section
    python -m bench.safety_screen --screen rules     # only the rules (default: both screens)

Both screens are measured by default: the rules alone, and the rules with the second
stage (bot/engine/safety/second_stage.py, a table of word piece scores kept in the repo), with a
table of each kind's figures side by side.

A labelled set is a YAML list of messages with `label` (risk, others or ordinary), `kind` and
`text` (see tests/engine/safety_corpus/README.md). For each kind, and overall, it reports:

- on risk: recall (crisis card or check-in question), and how much of it was the crisis card;
- on ordinary messages: the crisis card rate and the check-in rate (false alarms), and how many
  got the gentle card;
- on others at risk: how many got the gentle card (and how many the crisis card or check-in);
- the time to screen one message (p50, p99, max) and the memory the screen adds to a process.

`--wrong` lists the ids of the messages answered wrongly (not their words). Only ever read the
words of the training split when writing rules: the held-out split is measured, never read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bot.engine.config_file import read_yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "engine" / "safety_corpus"
SPLITS = {"heldout": CORPUS / "heldout.yaml", "train": CORPUS / "train.yaml"}
LABELS = ("risk", "others", "ordinary")
#: How many times each message is screened for the timings (the fastest run is not taken:
#: every run counts, so the p99 includes the machine's noise).
ROUNDS = 5

#: The aims from issue 9, on the held-out split.
AIMS = {
    "recall": 0.98,
    "crisis_on_ordinary": 0.03,
    "check_in_on_ordinary": 0.08,
    "gentle_on_others": 0.90,
    "p99_ms": 5.0,
    "memory_mb": 100.0,
}


#: The section of BENCHMARKS.md these figures go in.
SECTION = "5. Safety screen on the held-out corpus"
#: How the figures were made, for the section.
COMMAND = "python -m bench.safety_screen --update BENCHMARKS.md"


class LabelledSetError(ValueError):
    """A labelled set cannot be read; the message says which file and what is wrong."""


@dataclass(frozen=True)
class Message:
    id: str
    label: str
    kind: str
    text: str


@dataclass
class Tally:
    """Outcomes for one group of messages (a kind, or a whole label)."""

    label: str
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.outcomes.values())

    def rate(self, *outcomes: str) -> float:
        return sum(self.outcomes[o] for o in outcomes) / self.count if self.count else 0.0


@dataclass
class Result:
    sources: list[str]
    by_kind: dict[str, Tally]
    by_label: dict[str, Tally]
    timings: list[float]
    memory_mb: float | None
    #: CPU time per screening (the process's own time, which other work on a shared machine
    #: does not inflate the way it inflates the wall-clock time).
    cpu_timings: list[float] = field(default_factory=list)
    #: The machine's 1-minute load average when the run ended.
    load: float | None = None

    def figures(self) -> dict[str, float]:
        risk, others, ordinary = (self.by_label.get(label) for label in LABELS)
        found: dict[str, float] = {}
        if risk is not None and risk.count:
            found["recall"] = risk.rate("crisis", "check_in")
        if ordinary is not None and ordinary.count:
            found["crisis_on_ordinary"] = ordinary.rate("crisis")
            found["check_in_on_ordinary"] = ordinary.rate("check_in")
        if others is not None and others.count:
            found["gentle_on_others"] = others.rate("others")
        found["p50_ms"] = report.percentile(self.timings, 0.50) * 1000
        found["wall_p99_ms"] = report.percentile(self.timings, 0.99) * 1000
        found["p99_ms"] = report.percentile(self.cpu_timings or self.timings, 0.99) * 1000
        found["cpu_p50_ms"] = report.percentile(self.cpu_timings or self.timings, 0.50) * 1000
        if self.memory_mb is not None:
            found["memory_mb"] = self.memory_mb
        return found

    def aims_met(self) -> dict[str, bool]:
        figures = self.figures()
        met: dict[str, bool] = {}
        for name, aim in AIMS.items():
            if name not in figures:
                continue
            higher_is_better = name in {"recall", "gentle_on_others"}
            met[name] = figures[name] >= aim if higher_is_better else figures[name] <= aim
        return met


def load_messages(path: Path) -> list[Message]:
    """A labelled set, checked: every problem names the file and the entry."""
    data = read_yaml(path, what="the labelled set", error=LabelledSetError)
    if not isinstance(data, list):
        raise LabelledSetError(f"{path}: expected a list of messages (id, label, kind, text)")
    messages: list[Message] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise LabelledSetError(f"{path}: entry {number} has no text")
        label = item.get("label")
        if label not in LABELS:
            raise LabelledSetError(
                f"{path}: entry {number} has label {label!r}; use one of {', '.join(LABELS)}"
            )
        messages.append(
            Message(
                id=str(item.get("id", number)),
                label=str(label),
                kind=str(item.get("kind") or label),
                text=item["text"],
            )
        )
    return messages


def _right(label: str, outcome: str) -> bool:
    if label == "risk":
        return outcome in {"crisis", "check_in"}
    if label == "others":
        return outcome == "others"
    return outcome in {"none", "others"}


def run(
    messages: Sequence[Message],
    *,
    sources: Sequence[str] = (),
    rounds: int = ROUNDS,
    memory: bool = True,
    screen: Callable[[str], Any] | None = None,
    which: str = "rules",
) -> Result:
    """Screen every message `rounds` times; tally the outcomes of the first round."""
    if screen is None:
        from bot.engine.safety import screen as shipped

        screen = shipped
    by_kind: dict[str, Tally] = {}
    by_label: dict[str, Tally] = {label: Tally(label) for label in LABELS}
    timings: list[float] = []
    cpu_timings: list[float] = []
    clock, cpu = time.perf_counter, time.process_time
    for round_number in range(rounds):
        for message in messages:
            started, cpu_started = clock(), cpu()
            concern = screen(message.text)
            timings.append(clock() - started)
            cpu_timings.append(cpu() - cpu_started)
            if round_number:
                continue
            outcome = concern.outcome if concern is not None else "none"
            for tally in (
                by_kind.setdefault(message.kind, Tally(message.label)),
                by_label[message.label],
            ):
                tally.outcomes[outcome] += 1
                if not _right(message.label, outcome):
                    tally.wrong.append(message.id)
    return Result(
        sources=list(sources),
        by_kind=by_kind,
        by_label={k: v for k, v in by_label.items() if v.count},
        timings=timings,
        memory_mb=memory_added(which=which) if memory else None,
        cpu_timings=cpu_timings,
        load=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    )


_MEMORY_PROBE = """
import json, sys
SCREEN = sys.argv[1]
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
import yaml, re, unicodedata  # what the process holds before the screen
before = rss()
if SCREEN == "second_stage":
    from bot.engine.safety.second_stage import screen
else:
    from bot.engine.safety import screen
for text in sys.argv[2:]:
    screen(text)
print(json.dumps({"before": before, "after": rss()}))
"""


def memory_added(samples: Sequence[str] = (), *, which: str = "rules") -> float | None:
    """Resident memory a fresh interpreter gains by importing and using the screen (MB):
    `which` is "rules" or "second_stage" (the rules and the model)."""
    texts = (
        list(samples)
        or [
            "Long day on the ward, and I can't stop thinking about ending it.",
            "A pupil disclosed self-harm today; safeguarding referral made.",
            "Rota fell apart again and the inspection is next week. Tired but fine.",
        ]
        * 50
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, which, *texts],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        figures = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return float(figures["after"] - figures["before"])


# ---------------------------------------------------------------------- reporting


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def markdown(result: Result, *, command: str) -> str:
    figures = result.figures()
    met = result.aims_met()
    lines = [
        f"Measured on {', '.join(f'`{s}`' for s in result.sources) or 'the given messages'} "
        f"with `{command}`: {sum(t.count for t in result.by_label.values())} messages. "
        "Recall counts the crisis card or the check-in question; a false alarm is either on an "
        "ordinary message.",
        "",
    ]
    rows = []
    names = {
        "recall": "Recall on risk (crisis or check-in)",
        "crisis_on_ordinary": "Crisis card on ordinary messages",
        "check_in_on_ordinary": "Check-in question on ordinary messages",
        "gentle_on_others": "Others at risk given the gentle card",
        "p99_ms": "p99 screen time per message (CPU)",
        "memory_mb": "Memory the screen adds to a process",
    }
    for name, title in names.items():
        if name not in figures:
            continue
        value = figures[name]
        shown = (
            f"{value:.2f} ms"
            if name == "p99_ms"
            else f"{value:.1f} MB"
            if name == "memory_mb"
            else _pct(value)
        )
        aim = AIMS[name]
        aim_text = (
            f"≥ {aim * 100:.0f}%"
            if name in {"recall", "gentle_on_others"}
            else f"≤ {aim * 100:.0f}%"
            if name.endswith("ordinary")
            else f"≤ {aim:g} ms"
            if name == "p99_ms"
            else f"≤ {aim:g} MB"
        )
        rows.append((title, shown, aim_text, report.verdict(met[name])))
    rows.append(
        (
            "p50 screen time (CPU / wall clock)",
            f"{figures['cpu_p50_ms']:.2f} ms / {figures['p50_ms']:.2f} ms",
            "",
            "",
        )
    )
    load = f", load average {result.load:.1f} on this machine" if result.load is not None else ""
    rows.append(
        (
            "p99 / max screen time (wall clock)",
            f"{figures['wall_p99_ms']:.2f} ms / {max(result.timings, default=0) * 1000:.2f} ms",
            "",
            f"includes time the process waited for a core{load}",
        )
    )
    lines.append(report.table(("Overall", "Figure", "Aim", ""), rows))
    lines += ["", "By kind:", ""]
    kind_rows = []
    for kind in sorted(result.by_kind, key=lambda k: (LABELS.index(result.by_kind[k].label), k)):
        tally = result.by_kind[kind]
        o = tally.outcomes
        if tally.label == "risk":
            measure = f"recall {_pct(tally.rate('crisis', 'check_in'))}"
        elif tally.label == "others":
            measure = f"gentle card {_pct(tally.rate('others'))}"
        else:
            measure = (
                f"crisis {_pct(tally.rate('crisis'))}, check-in {_pct(tally.rate('check_in'))}"
            )
        kind_rows.append(
            (
                kind,
                tally.label,
                tally.count,
                measure,
                o["crisis"],
                o["check_in"],
                o["others"],
                o["none"],
            )
        )
    lines.append(
        report.table(
            ("Kind", "Label", "n", "Measure", "Crisis", "Check-in", "Gentle", "Nothing"),
            kind_rows,
        )
    )
    return "\n".join(lines)


def wrong_ids(result: Result) -> str:
    lines = []
    for kind, tally in sorted(result.by_kind.items()):
        if tally.wrong:
            lines.append(f"{kind}: {', '.join(tally.wrong)}")
    return "\n".join(lines) or "(none)"


#: The screens measured: the rules alone, and the rules with the optional second stage.
RULES = "rules"
SECOND_STAGE = "second_stage"
TITLES = {RULES: "Rules only", SECOND_STAGE: "Rules and the second stage"}


def screens(choice: str = "both") -> tuple[list[tuple[str, Callable[[str], Any]]], str | None]:
    """The screens to measure ("rules", "second_stage" or "both"), and why the second stage
    is left out, if it is."""
    from bot.engine.safety import screen as rules
    from bot.engine.safety import second_stage

    chosen: list[tuple[str, Callable[[str], Any]]] = []
    if choice in {RULES, "both"}:
        chosen.append((RULES, rules))
    missing = None
    if choice in {SECOND_STAGE, "both"}:
        if second_stage.available():
            chosen.append((SECOND_STAGE, second_stage.screen))
        else:
            missing = second_stage.unavailable_reason()
    return chosen, missing


def comparison(results: dict[str, Result]) -> str:
    """Per kind, each screen's measure side by side."""
    names = list(results)
    first = results[names[0]]
    rows = []
    for kind in sorted(first.by_kind, key=lambda k: (LABELS.index(first.by_kind[k].label), k)):
        label = first.by_kind[kind].label
        row: list[object] = [kind, label, first.by_kind[kind].count]
        row += [_cell(label, results[name].by_kind[kind]) for name in names]
        rows.append(tuple(row))
    for label in LABELS:
        if label not in first.by_label:
            continue
        row = [f"**all {label}**", label, first.by_label[label].count]
        row += [_cell(label, results[name].by_label[label]) for name in names]
        rows.append(tuple(row))
    return report.table(("Kind", "Label", "n", *(TITLES[n] for n in names)), rows)


def _cell(label: str, tally: Tally) -> str:
    """What a row says for one screen: recall for risk, the gentle card for others, false
    alarms for ordinary messages."""
    if label == "risk":
        return f"recall {_pct(tally.rate('crisis', 'check_in'))}"
    if label == "others":
        return f"gentle {_pct(tally.rate('others'))}"
    return f"crisis {_pct(tally.rate('crisis'))}, check-in {_pct(tally.rate('check_in'))}"


def measure_all(
    messages: Sequence[Message],
    *,
    sources: Sequence[str],
    command: str,
    choice: str = "both",
    rounds: int = ROUNDS,
    memory: bool = True,
    wrong: bool = False,
) -> str:
    """Every chosen screen measured on the same messages, as Markdown."""
    chosen, missing = screens(choice)
    results: dict[str, Result] = {}
    parts: list[str] = []
    for name, screen in chosen:
        result = run(
            messages, sources=sources, rounds=rounds, memory=memory, screen=screen, which=name
        )
        results[name] = result
        parts += [f"### {TITLES[name]}", "", markdown(result, command=command)]
        if wrong:
            parts += ["", "Answered wrongly (ids):", "", wrong_ids(result)]
        parts.append("")
    if missing is not None:
        parts += [f"The second stage was not measured: {missing}.", ""]
    if len(results) > 1:
        parts = [
            "### Rules only and with the second stage, by kind",
            "",
            comparison(results),
            "",
            *parts,
        ]
    return "\n".join(parts).strip()


def section(*, command: str = COMMAND) -> str:
    """The held-out figures as a BENCHMARKS.md section body."""
    messages = load_messages(SPLITS["heldout"])
    body = measure_all(messages, sources=[_shown(SPLITS["heldout"])], command=command)
    return (
        body + "\n\nThe held-out split is never read while writing rules or training the second "
        "stage (see tests/engine/safety_corpus/README.md); these figures are an estimate of "
        "how the screen does on words nobody listed, and should be checked on sets that never "
        "enter the repo (`python -m bench.safety_screen FILE...`). The second stage adds the "
        "check-in question or the gentle card where the rules found nothing, and the check-in "
        "question where they found only someone else at risk; it never removes a card the "
        "rules showed. Its heads were trained on the training split alone and its threshold "
        "chosen on the training split and blind validation batches that then joined it "
        "(`python -m bench.safety_head`). Times are per "
        "message, measured in-process over several rounds on a shared machine; memory is the "
        "resident memory a fresh interpreter gains by importing the screen and screening 100 "
        "messages."
    )


def update(path: Path, body: str, *, title: str = SECTION) -> None:
    """Put `body` under `## title` in a Markdown file, replacing that section if it is there
    (before the notes, if any), leaving every other section as it was."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    heading = f"## {title}"
    block = f"{heading}\n\n{body.strip()}\n"
    if heading in text:
        before, rest = text.split(heading, 1)
        following = rest.find("\n## ")
        after = rest[following + 1 :] if following >= 0 else ""
        text = before + block + ("\n" + after if after else "")
    elif "\n## Notes" in text:
        before, after = text.split("\n## Notes", 1)
        text = before.rstrip() + "\n\n" + block + "\n## Notes" + after
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.safety_screen",
        description="Measure the safety screen on labelled messages (default: the held-out split).",
    )
    parser.add_argument("files", nargs="*", type=Path, help="labelled YAML sets to measure")
    parser.add_argument("--split", choices=sorted(SPLITS), default="heldout")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="screenings per message")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probe")
    parser.add_argument("--wrong", action="store_true", help="list the ids answered wrongly")
    parser.add_argument(
        "--screen",
        choices=("both", RULES, SECOND_STAGE),
        default="both",
        help="the rules alone, the rules with the second stage, or both",
    )
    parser.add_argument(
        "--update",
        type=Path,
        metavar="MARKDOWN",
        help=f"measure the held-out split and rewrite the section {SECTION!r} of this file",
    )
    args = parser.parse_args(argv)
    if args.update is not None:
        if args.files or args.split != "heldout":
            parser.error("--update measures the held-out split only; give no files or --split")
        update(args.update, section())
        print(f"updated {args.update} ({SECTION})")
        return 0
    files = args.files or [SPLITS[args.split]]
    try:
        messages = [m for path in files for m in load_messages(path)]
    except LabelledSetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not messages:
        print("error: no messages to measure", file=sys.stderr)
        return 2
    sources = [_shown(path) for path in files]
    command = "python -m bench.safety_screen " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    print(
        measure_all(
            messages,
            sources=sources,
            command=command.strip(),
            choice=args.screen,
            rounds=max(1, args.rounds),
            memory=not args.no_memory,
            wrong=args.wrong,
        )
    )
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def grouped(messages: Sequence[Message]) -> dict[str, list[Message]]:
    found: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        found[message.kind].append(message)
    return dict(found)


if __name__ == "__main__":
    raise SystemExit(main())
