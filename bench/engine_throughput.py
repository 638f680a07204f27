"""Engine throughput: steps per second through Conversations with the real SQLite store
(WAL, synchronous=FULL, per-person AES-GCM keys, redaction) as the store grows.

A step is one call a transport makes for one thing a leader did: starting a flow, typing an
answer (`receive`) or clicking one (`choose`). Leaders walk the built-in "After a hard day"
flow from start to finish, one after another, on one thread; the people walking are people
who already have reflections stored, so finishing reads their history as it would in use.
The store is filled in stages (0, then 10,000, then 100,000 reflections in all) with
`bench.seeding`, and the same walk is timed at each stage.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import processes, report, seeding
from bot.engine.conversation import Conversations
from bot.engine.people import Person
from bot.engine.replies import Question, Reply
from bot.runtime import build_conversations
from bot.settings import Settings
from bot.store.sqlite import SqliteStore

SECRET = processes.STORE_SECRET.encode()
LEVELS = (0, 10_000, 100_000)
PEOPLE = 10_000
TEXT = "A long shift and a hard conversation with a family; I'm still thinking about it."


@dataclass(frozen=True)
class Level:
    label: str
    stored: int
    steps: int
    flows: int
    seconds: float
    seed_seconds: float

    @property
    def rate(self) -> float:
        return self.steps / self.seconds


def _question(replies: list[Reply]) -> Question | None:
    asked = [reply for reply in replies if isinstance(reply, Question)]
    return asked[-1] if asked else None


def walk(conversations: Conversations, person: Person) -> int:
    """One whole hard-day flow; returns the steps it took."""
    replies = conversations.start(person, "hard-day")
    steps = 1
    while (question := _question(replies)) is not None:
        if question.step_kind == "text":
            replies = conversations.receive(person, TEXT)
        else:
            value: object
            if question.step_kind == "scale":
                value = 3
            elif question.step_kind == "multi":
                value = [question.choices[0].value]
            else:
                value = question.choices[0].value
            replies = conversations.choose(
                person, flow_id=question.flow_id, step_id=question.step_id, value=value
            )
        steps += 1
        if steps > 50:
            raise RuntimeError("the flow did not finish")
    return steps


def measure(
    conversations: Conversations, *, seconds: float, first: int, wrap: bool = True
) -> tuple[int, int, float]:
    steps = flows = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        number = first + flows
        steps += walk(conversations, seeding.person(number % PEOPLE if wrap else number))
        flows += 1
    return steps, flows, time.perf_counter() - began


def run(
    *, seconds: float, levels: tuple[int, ...] = LEVELS, keep_in: Path | None = None
) -> list[Level]:
    """Time the walk at each level; with `keep_in`, the database is left there afterwards
    (the memory benchmark starts the bot on it)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="reflect-bench-") as temporary:
        folder = keep_in or Path(temporary)
        store = SqliteStore.open(folder / "reflect.db", secret=SECRET)
        conversations = build_conversations(settings=Settings(), store=store)
        stored = 0
        # First-time leaders: their first step also makes their data key (two more commits).
        steps, flows, elapsed = measure(conversations, seconds=seconds, first=PEOPLE, wrap=False)
        results.append(Level("0, first-time leaders", 0, steps, flows, elapsed, 0.0))
        print(f"  engine: first-time leaders: {steps / elapsed:.0f} steps/s", flush=True)
        began = time.perf_counter()
        seeding.give_keys(store, people=PEOPLE)
        keys_seconds = time.perf_counter() - began
        walked = 0
        for level in levels:
            began = time.perf_counter()
            seeding.seed_more(store, start=stored, until=level, people=PEOPLE)
            seed_seconds = time.perf_counter() - began
            stored = level
            walk(conversations, seeding.person(PEOPLE - 1))  # warm up caches once
            steps, flows, elapsed = measure(conversations, seconds=seconds, first=walked)
            walked = (walked + flows) % PEOPLE
            seed_seconds += keys_seconds if level == levels[0] else 0.0
            results.append(Level(f"{level:,}", level, steps, flows, elapsed, seed_seconds))
            print(f"  engine: {level:>7} stored: {steps / elapsed:.0f} steps/s", flush=True)
        store.close()
    return results


def markdown(levels: list[Level]) -> str:
    rows = [
        (
            level.label,
            f"{level.rate:.0f}",
            f"{1000 / level.rate:.2f} ms",
            level.steps,
            level.flows,
            f"{level.seconds:.1f} s",
            f"{level.seed_seconds:.1f} s",
        )
        for level in levels
    ]
    steady = [level for level in levels if not level.label.endswith("leaders")]
    base = steady[0].rate
    ratios = [level.rate / base for level in steady[1:]] if base else []
    slowest = min(ratios, default=1.0)
    text = report.table(
        (
            "Reflections stored",
            "Steps/s",
            "Per step",
            "Steps",
            "Whole flows",
            "Timed for",
            "Seeding this stage took",
        ),
        rows,
    )
    return (
        text + "\n\nThe first row walks people who have never used Reflect (their first step also "
        "creates and commits their data key); the others walk people who have (keys for all "
        f"{PEOPLE:,} made before the 0 stage, time included in its seeding column).\n\n"
        + "Against the 0 stage, the stages with reflections stored ran at "
        + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
        + f". Aim: flat (no slowdown as the store grows; the slowest is {slowest:.2f}x): "
        + f"{report.verdict(slowest >= 0.8)}. "
        + "Differences in the faster direction cannot come from the data and show the "
        "machine's noise during the run."
    )
