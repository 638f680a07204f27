"""The built-in flow library: every flow loads, its rehearsals pass, and every branch is walked.

Conventions the built-in flows follow (checked here, so a new flow cannot quietly break them):

* The closing. Every walk lets go of something (step id `let_go`, or `put_down` in hard-day)
  and then offers one small next step (`next_step`, optional, marked `ask_next_time` so that
  the next reflection asks how it went). A flow that rated the weight at the start rates it
  again after the next step and names the change in a closing info step (`close`).
* Follow-up from last time: every flow has a `follow_up` step, shown only when there is a
  last next step to ask about.
* The leader chooses what to disclose: questions about feelings are optional.
* Scales run low to high, "how much", with the heavy end at `max` and a word for every point,
  so "4 of 5 (heavy)" means the same everywhere; where a condition reads a scale, the heavy end
  leads somewhere the light end does not (a restorative step).
* Keywords are whole phrases a leader might type; no two flows share one, and none is a word
  the engine already reads as a command (skip, pause, help...). Nothing a leader might type
  from a flow (an option, a keyword) trips the safety screen.
* Summaries hold no instructions: a flow suggests another with an option's `suggests`, which
  becomes a button after the summary, never "type ... to start it" in the kept summary.
* No flow says "tonight" in the morning: time-of-day words come from the leader's local time.
* `minutes` is honest, by a stated model (TIME_MODEL): the typical path (the first
  rehearsal, with a follow-up from last time) fits within it, and the longest walk is within
  three minutes of it.
* Copy is plain British English without exclamation marks; meta names the models drawn on.

The explorer walks each flow through the pure state machine (bot.engine.sessions) with a fixed
clock. Steps whose answers a condition reads ("decision steps") are tried with every answer
that can matter: every option of a choice, every value of a scale, every subset of a short
multi-choice (every single option, every pair and the whole list of a longer one), and "skip"
when the step is optional; the walk forks at each of them. Other steps take one plain answer,
and then each of their other answers (other options, "skip") is tried once more in a walk of
its own, so every answer of every step is given at least once; one more walk skips every
optional step. The tests then check that every step was reached, every route in every `next`
list was taken (and led where it says), and every walk ended with a summary that reads cleanly
(no "None", no template residue, no empty lines or fields, no answer marked `store: never`).
Falling through a `next` list without matching any route is not required, since a flow may
cover every case.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.engine import conditions, messages, sessions
from bot.engine.authoring.loading import load_library
from bot.engine.authoring.rehearsal import rehearse
from bot.engine.flows import (
    END,
    Branch,
    ChoiceStep,
    Flow,
    FollowUpStep,
    InfoStep,
    MultiChoiceStep,
    Otherwise,
    ScaleStep,
    Step,
    TextStep,
)
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.rendering import CONTEXT_NAMES
from bot.engine.replies import Question, Say
from bot.engine.safety import screen
from bot.engine.sessions import Turn

ROOT = Path(__file__).resolve().parents[2]
FLOWS_DIR = ROOT / "flows"
FILES = sorted(FLOWS_DIR.glob("*.yaml"))
NOW = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)
SEVEN_AREAS = ("self", "staff", "stakeholders", "relationships", "work", "environment", "context")
REQUIRED_FLOWS = {
    "hard-day": "debrief",
    "weekly-checkin": "checkin",
    "gibbs": "model",
    "what-so-what": "model",
    "prepare-supervision": "prepare",
}
#: What the explorer recalls from "last time", so that follow-up steps are walked too.
RECALL = {
    "next_step": {"reflection_id": "r1", "text": "Ring the family at ten", "when": "yesterday"},
    "since_last_supervision": ["1 Dec, After a hard day"],
}
SCHEMA_LINE = "# yaml-language-server: $schema=./schema.json"
RESIDUE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\bNone\b|\bnone\b|\bundefined\b")
#: A few American spellings, so the copy stays in British English.
AMERICANISMS = re.compile(
    r"\b(organization|behavior|color|center|favor|honor|labor|judgment|program|"
    r"analyze|realize|recognize|prioritize|apologize|mom|vacation|math)s?\b",
    re.IGNORECASE,
)


def _load_all() -> tuple[dict[str, Flow], list[str]]:
    """Through the real loader, which checks much more than the models do."""
    loaded = load_library(FILES, default="hard-day")
    flows = {loaded.sources[flow.id].stem: flow for flow in loaded.library}
    return flows, [str(problem) for problem in loaded.problems]


FLOWS, PROBLEMS = _load_all()


def _ids() -> list[str]:
    return sorted(FLOWS)


# ---------------------------------------------------------------------------- the explorer


@dataclass(frozen=True)
class Action:
    """One thing a leader does at a step: type text, click a value, or skip."""

    kind: str  # "answer", "choose" or "skip"
    value: Any = None

    def key(self) -> str:
        return f"{self.kind}:{self.value!r}"


@dataclass
class Walk:
    path: tuple[str, ...]
    answers: dict[str, Any]
    summary: str
    texts: list[str]
    actions: list[tuple[str, Action]]

    def how(self) -> str:
        """The answers that led here, for failure messages."""
        return "; ".join(f"{step_id}={action.key()}" for step_id, action in self.actions)


@dataclass
class Exploration:
    walks: list[Walk] = field(default_factory=list)
    given: set[tuple[str, str]] = field(default_factory=set)


def _sample_text(step: Step) -> str:
    return f"My answer to {step.id}"


def _multi_sets(step: MultiChoiceStep) -> list[list[str]]:
    values = [option.value for option in step.options]
    limit = step.max_choices or len(values)
    # Every subset of a short list; of a longer one, every single option and every pair.
    top = len(values) if len(values) <= 4 else 2
    sizes = range(1, min(limit, top) + 1)
    chosen = [list(c) for size in sizes for c in itertools.combinations(values, size)]
    if limit >= len(values) and values not in chosen:
        chosen.append(values)
    return chosen


def candidates(step: Step) -> list[Action]:
    """Every answer worth trying at this step, the plainest first."""
    found: list[Action] = []
    if isinstance(step, TextStep):
        found.append(Action("answer", _sample_text(step)))
    elif isinstance(step, ScaleStep):
        found += [Action("answer", str(value)) for value in range(step.min, step.max + 1)]
    elif isinstance(step, ChoiceStep | FollowUpStep):
        found += [Action("choose", option.value) for option in step.options]
    elif isinstance(step, MultiChoiceStep):
        found += [Action("choose", values) for values in _multi_sets(step)]
    if step.optional:
        found.append(Action("skip"))
    return found


def decision_steps(flow: Flow) -> set[str]:
    """Steps whose answers some condition reads: the walks fork on every answer to these."""
    named: set[str] = set()
    for step in flow.steps:
        if isinstance(step.next, list):
            for route in step.next:
                if isinstance(route, Branch):
                    named |= conditions.names(route.when)
    return named


def _texts(turn: Turn) -> list[str]:
    return [reply.text for reply in turn.replies if isinstance(reply, Say | Question)]


def _apply(flow: Flow, turn: Turn, action: Action) -> Turn:
    if action.kind == "skip":
        after = sessions.skip(flow, turn.session, now=NOW, reason="not optional")
    elif action.kind == "choose":
        after = sessions.choose(flow, turn.session, action.value, now=NOW)
    else:
        after = sessions.answer(flow, turn.session, action.value, now=NOW)
    step_id = turn.session.step_id
    # Taken: the step is on the path (a `store: never` answer may already be gone).
    assert step_id in after.session.path, (
        f"{flow.id}: step {step_id!r} refused {action.key()}: {_texts(after)}"
    )
    return after


def explore(flow: Flow) -> Exploration:
    decisions = decision_steps(flow)
    found = Exploration()
    first_visit: dict[str, tuple[Turn, list[str], list[tuple[str, Action]]]] = {}

    def walk(
        turn: Turn, texts: list[str], actions: list[tuple[str, Action]], *, fork: bool
    ) -> Iterator[Walk]:
        if turn.finished:
            assert turn.summary is not None
            yield Walk(turn.session.path, turn.session.answers, turn.summary, texts, actions)
            return
        step = flow.step(turn.session.step_id)
        first_visit.setdefault(step.id, (turn, texts, actions))
        options = candidates(step)
        tried = options if fork and step.id in decisions else options[:1]
        for action in tried:
            found.given.add((step.id, action.key()))
            after = _apply(flow, turn, action)
            yield from walk(
                after, [*texts, *_texts(after)], [*actions, (step.id, action)], fork=fork
            )

    start = sessions.start(flow, now=NOW, person=Person("t:1", first_name="Sam"), recall=RECALL)
    found.walks += walk(start, _texts(start), [], fork=True)
    # Every other answer of every step, once, each in a walk of its own.
    for step in flow.steps:
        if step.id not in first_visit:
            continue
        turn, texts, actions = first_visit[step.id]
        for action in candidates(step):
            if (step.id, action.key()) in found.given:
                continue
            found.given.add((step.id, action.key()))
            after = _apply(flow, turn, action)
            found.walks += walk(
                after, [*texts, *_texts(after)], [*actions, (step.id, action)], fork=False
            )
    # And one walk that skips everything it may (and one with no first name).
    skipping = sessions.start(flow, now=NOW)
    texts = _texts(skipping)
    taken: list[tuple[str, Action]] = []
    while not skipping.finished:
        step = flow.step(skipping.session.step_id)
        taken.append((step.id, candidates(step)[-1]))
        skipping = _apply(flow, skipping, taken[-1][1])
        texts += _texts(skipping)
    assert skipping.summary is not None
    found.walks.append(
        Walk(skipping.session.path, skipping.session.answers, skipping.summary, texts, taken)
    )
    return found


def route_taken(flow: Flow, step: Step, answers: dict[str, Any]) -> int | None:
    """Which entry of the step's `next` list a walk took (None: it fell through)."""
    assert isinstance(step.next, list)
    for number, route in enumerate(step.next):
        if isinstance(route, Otherwise) or conditions.evaluate(route.when, answers):
            return number
    return None


def _target(route: Branch | Otherwise) -> str:
    return route.then if isinstance(route, Branch) else route.otherwise


EXPLORED: dict[str, Exploration] = {}


def explored(flow_id: str) -> Exploration:
    if flow_id not in EXPLORED:
        EXPLORED[flow_id] = explore(FLOWS[flow_id])
    return EXPLORED[flow_id]


# ---------------------------------------------------------------------------- the library


def _commands() -> set[str]:
    kinds = ("skip", "back", "pause", "stop", "help", "resume", "menu")
    return set().union(*(messages.words(kind) for kind in kinds))


def test_every_built_in_flow_loads() -> None:
    assert FILES
    assert not PROBLEMS, "\n".join(PROBLEMS)
    assert sorted(FLOWS) == sorted(path.stem for path in FILES)


def test_the_library_has_the_flows_it_promises() -> None:
    assert len(FLOWS) >= 12
    areas = {flow.area for flow in FLOWS.values()}
    missing = [area for area in SEVEN_AREAS if area not in areas]
    assert not missing, f"no built-in flow for the areas {missing}"
    for flow_id, area in REQUIRED_FLOWS.items():
        assert flow_id in FLOWS, f"the built-in flow {flow_id!r} is missing"
        assert FLOWS[flow_id].area == area


def test_keywords_are_unique_and_never_a_command() -> None:
    commands = _commands()
    owner: dict[str, str] = {}
    for flow in FLOWS.values():
        assert flow.keywords, f"{flow.id}: give it a few keywords a leader might type"
        for keyword in flow.keywords:
            word = " ".join(keyword.lower().split())
            assert word not in commands, f"{flow.id}: the keyword {keyword!r} is a command"
            assert word not in owner, f"{flow.id} and {owner.get(word)} share {keyword!r}"
            owner[word] = flow.id
        names = {flow.id.replace("-", " "), flow.title.lower()}
        assert not names & commands


def test_option_labels_are_never_a_command() -> None:
    commands = _commands()
    for flow in FLOWS.values():
        for step in flow.steps:
            if isinstance(step, ChoiceStep | MultiChoiceStep):
                for option in step.options:
                    assert option.label.lower() not in commands, (flow.id, step.id)
                    assert option.value not in commands, (flow.id, step.id)


# ---------------------------------------------------------------------------- each flow


@pytest.mark.parametrize("flow_id", _ids())
def test_the_file_is_named_after_the_flow_and_points_editors_at_the_schema(flow_id: str) -> None:
    path = FLOWS_DIR / f"{flow_id}.yaml"
    assert FLOWS[flow_id].id == flow_id, f"{path.name} holds the flow {FLOWS[flow_id].id!r}"
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE


@pytest.mark.parametrize("flow_id", _ids())
def test_metadata_and_length(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    assert 3 <= flow.minutes <= 10
    assert flow.meta.author == "Reflect contributors"
    assert flow.meta.last_reviewed >= dt.date(2026, 11, 22)
    assert flow.meta.draws_on
    assert len(flow.tests) >= 2, "ship at least two rehearsals, covering different branches"
    typed = [s for s in flow.steps if isinstance(s, TextStep)]
    # No more than twelve typed answers in a flow, whichever way it branches
    # (test_the_minutes_are_honest times the walks themselves).
    assert len(typed) <= 12


@pytest.mark.parametrize("flow_id", _ids())
def test_the_copy_is_plain_british_english_without_exclamation_marks(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    words = [flow.title, flow.description, flow.intro, flow.summary]
    for step in flow.steps:
        words += [step.prompt, step.help or ""]
        if isinstance(step, ChoiceStep | MultiChoiceStep):
            words += [option.label for option in step.options]
        if isinstance(step, ScaleStep):
            words += [step.labels.min, step.labels.max]
    for text in words:
        assert "!" not in text.replace("!=", ""), f"{flow_id}: {text!r}"
        assert not AMERICANISMS.search(text), f"{flow_id}: {text!r}"


@pytest.mark.parametrize("flow_id", _ids())
def test_scales_run_low_to_high_with_the_heavy_end_at_the_top(flow_id: str) -> None:
    for step in FLOWS[flow_id].steps:
        if isinstance(step, ScaleStep):
            assert step.min < step.max and step.max - step.min <= 10
            assert step.heavy == "max", f"{flow_id}: {step.id}"
            assert step.points is not None and len(step.points) == step.max - step.min + 1
            assert (step.points[0], step.points[-1]) == (step.labels.min, step.labels.max)


@pytest.mark.parametrize("flow_id", _ids())
def test_every_flow_follows_up_and_marks_one_next_step(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    follow_ups = [s for s in flow.steps if isinstance(s, FollowUpStep)]
    marked = [s for s in flow.steps if s.ask_next_time]
    assert len(follow_ups) == 1 and follow_ups[0].optional
    assert [s.id for s in marked] == ["next_step"]
    assert isinstance(marked[0], TextStep) and marked[0].optional and marked[0].store == "yes"


@pytest.mark.parametrize("flow_id", _ids())
def test_feelings_are_never_required(flow_id: str) -> None:
    """Steps kept only in the summary, or never kept, are the personal ones (feelings, how
    it landed, what it stirs up): the leader may always skip them."""
    for step in FLOWS[flow_id].steps:
        if isinstance(step, TextStep | MultiChoiceStep) and step.store != "yes":
            personal = step.id in {"landed", "feelings", "at_stake", "why_me", "another_way"}
            assert step.optional or not personal, f"{flow_id}: {step.id}"
        if step.id in {"landed", "feelings", "why_me", "another_way"}:
            assert step.optional, f"{flow_id}: {step.id}"


@pytest.mark.parametrize("flow_id", _ids())
def test_summaries_hold_no_instructions(flow_id: str) -> None:
    """A summary is kept for good: it names no flow to type, since suggestions are buttons."""
    ids = [f.id for f in FLOWS.values()]
    for walk in explored(flow_id).walks:
        named = [other for other in ids if other in walk.summary]
        assert not named, f"{flow_id}: the summary names {named}"


@pytest.mark.parametrize("flow_id", _ids())
def test_the_rehearsals_pass(flow_id: str) -> None:
    results = rehearse(FLOWS[flow_id])
    assert len(results) >= 2
    failures = [f"{r.name}: {failure}" for r in results for failure in r.failures]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("flow_id", _ids())
def test_every_step_is_reached_and_every_route_taken(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    walks = explored(flow_id).walks
    reached = {step_id for walk in walks for step_id in walk.path}
    unreached = sorted({s.id for s in flow.steps} - reached)
    assert not unreached, f"{flow_id}: never reached {unreached}"
    for step in flow.steps:
        if not isinstance(step.next, list):
            continue
        taken: set[int] = set()
        for walk in walks:
            if step.id not in walk.path:
                continue
            number = route_taken(flow, step, walk.answers)
            position = walk.path.index(step.id)
            following = walk.path[position + 1] if position + 1 < len(walk.path) else END
            if number is not None:
                taken.add(number)
                assert following == _target(step.next[number]), (step.id, walk.how())
        missing = [_target(step.next[n]) for n in range(len(step.next)) if n not in taken]
        assert not missing, f"{flow_id}: step {step.id!r} never routed to {missing}"


@pytest.mark.parametrize("flow_id", _ids())
def test_every_answer_of_every_step_is_given(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    given = explored(flow_id).given
    for step in flow.steps:
        for action in candidates(step):
            assert (step.id, action.key()) in given, (step.id, action.key())


@pytest.mark.parametrize("flow_id", _ids())
def test_every_walk_ends_with_a_clean_summary(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    never = [s.id for s in flow.steps if s.store == "never" and isinstance(s, TextStep)]
    for walk in explored(flow_id).walks:
        summary = walk.summary
        assert summary.strip()
        assert not RESIDUE.search(summary), f"{flow_id} ({walk.how()}): {summary!r}"
        assert "\n\n\n" not in summary
        assert not re.search(r"•[^\n]*\n\s*\n•", summary), (
            f"{flow_id} ({walk.how()}): a gap: {summary!r}"
        )
        for line in summary.splitlines():
            # A bullet or numbered line with nothing after its label is an empty field.
            empty = re.fullmatch(r"\s*(•|\d+\.)\s*([^:]*:)?\s*", line)
            assert not empty, f"{flow_id} ({walk.how()}): an empty field: {line!r}"
        for step_id in never:
            assert _sample_text(flow.step(step_id)) not in summary, f"{step_id} is never kept"
        for text in walk.texts:
            assert not RESIDUE.search(text), f"{flow_id}: {text!r}"


@pytest.mark.parametrize("flow_id", _ids())
def test_every_walk_closes_with_letting_go_and_a_next_step(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    let_go = "put_down" if flow_id == "hard-day" else "let_go"
    rates = [s.id for s in flow.steps if isinstance(s, ScaleStep)]
    re_rated = [r for r in rates if f"{r}_now" in rates]
    for walk in explored(flow_id).walks:
        path = list(walk.path)
        assert let_go in path and "next_step" in path, f"{flow_id}: {path}"
        assert path.index(let_go) < path.index("next_step")
        after = path[path.index("next_step") + 1 :]
        if re_rated:
            assert after == [f"{re_rated[0]}_now", "close"], f"{flow_id}: ends {after}"
        else:
            assert after == [], f"{flow_id}: ends {after}"
    full = next(w for w in explored(flow_id).walks if w.answers.get("next_step"))
    assert _sample_text(flow.step("next_step")) in full.summary


def test_the_closing_names_the_change_in_weight() -> None:
    """hard-day, gibbs and moral-distress rate the weight at the start and again at the end,
    and the closing words differ as it got lighter, heavier or stayed the same."""
    for flow_id in ("hard-day", "gibbs", "moral-distress"):
        flow = FLOWS[flow_id]
        first = next(s for s in flow.steps if isinstance(s, ScaleStep))
        closings: dict[str, set[str]] = {"lighter": set(), "heavier": set(), "same": set()}
        for walk in explored(flow_id).walks:
            before, after = walk.answers.get(first.id), walk.answers.get(f"{first.id}_now")
            if before is None or after is None:
                continue
            change = "lighter" if after < before else "heavier" if after > before else "same"
            closings[change].add(walk.texts[-1])
        assert all(closings.values()), f"{flow_id}: {closings}"
        assert not closings["lighter"] & closings["heavier"]
        assert not closings["lighter"] & closings["same"]


# ---------------------------------------------------------------------------- particular flows


def test_the_weekly_checkin_suggests_a_real_flow_for_every_answer() -> None:
    flow = FLOWS["weekly-checkin"]
    focus = flow.step("focus")
    assert isinstance(focus, ChoiceStep)
    suggested = {option.suggests for option in focus.options}
    assert None not in suggested and suggested <= set(FLOWS)
    # Every one of the seven areas can be suggested, and so can the debrief.
    areas = {FLOWS[str(flow_id)].area for flow_id in suggested}
    assert set(SEVEN_AREAS) <= areas and "hard-day" in suggested


def test_every_suggested_flow_exists() -> None:
    for flow in FLOWS.values():
        for step in flow.steps:
            for option in getattr(step, "options", []):
                assert option.suggests is None or option.suggests in FLOWS, (flow.id, step.id)


def test_the_supervision_agenda_is_numbered_and_ready_to_paste() -> None:
    for walk in explored("prepare-supervision").walks:
        lines = walk.summary.splitlines()
        assert lines[0] == "Supervision agenda"
        numbers = [int(m.group(1)) for x in lines if (m := re.match(r"(\d+)\. ", x))]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3
        assert not any(x.startswith("•") for x in lines)


def test_the_debrief_is_the_default_and_short() -> None:
    library = FlowLibrary(FLOWS.values())
    assert library.default == "hard-day" and next(iter(library)).id == "hard-day"
    assert FLOWS["hard-day"].minutes <= 4
    assert library.find("hard day") is FLOWS["hard-day"]


@pytest.mark.parametrize("flow_id", _ids())
def test_a_heavy_score_is_met_differently_from_a_light_one(flow_id: str) -> None:
    """Where a condition reads a scale, its heavy end leads somewhere its light end does not
    (a restorative step, a gentler question)."""
    flow = FLOWS[flow_id]
    for step in flow.steps:
        if not isinstance(step, ScaleStep) or step.id not in decision_steps(flow):
            continue
        walks = explored(flow_id).walks
        top, bottom = (step.max, step.min) if step.heavy == "max" else (step.min, step.max)
        heavy = {w.path for w in walks if w.answers.get(step.id) == top}
        light = {w.path for w in walks if w.answers.get(step.id) == bottom}
        assert heavy and light and not heavy & light, f"{flow_id}: {step.id}"


@pytest.mark.parametrize("flow_id", _ids())
def test_templates_compare_choices_with_labels_that_exist(flow_id: str) -> None:
    """Templates see a choice's label, not its value: a comparison with a label that has
    since been reworded would quietly never match."""
    flow = FLOWS[flow_id]
    templates = [flow.intro, flow.summary, *(step.prompt for step in flow.steps)]
    for template in templates:
        for name, label in re.findall(r"\b([a-z_]+) == \"([^\"]+)\"", template):
            if name in CONTEXT_NAMES:
                continue
            step = flow.step(name)
            assert isinstance(step, ChoiceStep), f"{flow_id}: {name} is not a choice"
            assert label in [option.label for option in step.options], f"{flow_id}: {label!r}"
        for label in re.findall(r"^\s*\"([^\"]+)\": \(", template, flags=re.MULTILINE):
            labels = [o.label for s in flow.steps if isinstance(s, ChoiceStep) for o in s.options]
            assert label in labels, f"{flow_id}: {label!r} is not an option's label"


def test_typing_an_option_or_keyword_never_trips_the_safety_screen() -> None:
    """A leader may type an option's words instead of clicking it; our own words must not be
    mistaken for a risk."""
    typed: list[str] = []
    for flow in FLOWS.values():
        typed += [flow.title, *flow.keywords]
        for step in flow.steps:
            if isinstance(step, ChoiceStep | MultiChoiceStep):
                typed += [option.label for option in step.options]
            if isinstance(step, ScaleStep):
                typed += [step.labels.min, step.labels.max]
        typed += [text for rehearsal in flow.tests for text in rehearsal.inputs]
    alarms = [text for text in typed if screen(text) is not None]
    assert not alarms


NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
#: How long a step takes a tired leader on a phone, in seconds: a typed answer 45, a click 5
#: (a multi-choice is two: a tick and Done), typing "skip" 5, reading a message (an info step
#: or the intro) 10.
TIME_MODEL = {"text": 45, "choice": 5, "follow_up": 5, "scale": 5, "multi": 10, "info": 10}
SKIPPED, INTRO = 5, 10


def seconds(flow: Flow, walk: tuple[str, ...], answers: dict[str, Any]) -> int:
    """How long a walk takes by TIME_MODEL."""
    total = INTRO
    for step_id in walk:
        step = flow.step(step_id)
        skipped = answers.get(step_id) is None and not isinstance(step, InfoStep)
        total += SKIPPED if skipped else TIME_MODEL[step.kind]
    return total


def typical_walk(flow: Flow) -> Turn:
    """The typical path: the flow's first rehearsal, played with a next step from last time
    to follow up (answered with its first option)."""
    turn = sessions.start(flow, now=NOW, recall=RECALL)
    inputs = list(flow.tests[0].inputs)
    while not turn.finished:
        step = flow.step(turn.session.step_id)
        if isinstance(step, FollowUpStep):
            turn = sessions.choose(flow, turn.session, step.options[0].value, now=NOW)
        elif inputs and inputs[0].lower() in messages.words("skip"):
            inputs.pop(0)
            turn = sessions.skip(flow, turn.session, now=NOW, reason="")
        else:
            assert inputs, f"{flow.id}: the first rehearsal ends before the flow does"
            turn = sessions.answer(flow, turn.session, inputs.pop(0), now=NOW)
    return turn


@pytest.mark.parametrize("flow_id", _ids())
def test_the_minutes_are_honest(flow_id: str) -> None:
    """The intro says the same length as `minutes`; the typical path fits within it (a
    test that fails when `minutes` understates it), and no walk is more than three minutes
    longer."""
    flow = FLOWS[flow_id]
    said = re.findall(rf"\b({'|'.join(NUMBER_WORDS)}) minutes\b", flow.intro.lower())
    assert said == [NUMBER_WORDS[flow.minutes - 1]], f"{flow_id}: the intro says {said}"
    typical = typical_walk(flow)
    taken = seconds(flow, typical.session.path, typical.session.answers)
    assert taken <= flow.minutes * 60, f"{flow_id}: the typical path takes {taken / 60:.1f} min"
    assert flow.minutes * 60 - taken <= 180, f"{flow_id}: overstated ({taken / 60:.1f} min)"
    longest = max(seconds(flow, w.path, w.answers) for w in explored(flow_id).walks)
    assert longest <= (flow.minutes + 3) * 60, f"{flow_id}: a walk takes {longest / 60:.1f} min"


@pytest.mark.parametrize("flow_id", _ids())
def test_no_flow_says_tonight_in_the_morning(flow_id: str) -> None:
    """Walked at 08:00 local time (after a night shift), no text uses the evening's or the
    night's words, and the flows' own copy never hard-codes them."""
    flow = FLOWS[flow_id]
    names = ("this_time", "before_rest", "next_day")
    late = {
        messages.text(f"time_of_day.{name}.{period}").lower()
        for name in names
        for period in ("evening", "night")
    } - {messages.text(f"time_of_day.{name}.morning").lower() for name in names}
    morning = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    person = Person("t:1", timezone="Europe/London")
    turn = sessions.start(flow, now=morning, person=person, recall=RECALL)
    texts = _texts(turn)
    while not turn.finished:
        step = flow.step(turn.session.step_id)
        action = candidates(step)[-1 if step.optional else 0]
        if action.kind == "skip":
            turn = sessions.skip(flow, turn.session, now=morning, reason="", person=person)
        elif action.kind == "choose":
            turn = sessions.choose(flow, turn.session, action.value, now=morning, person=person)
        else:
            turn = sessions.answer(flow, turn.session, action.value, now=morning, person=person)
        texts += _texts(turn)
    assert turn.summary is not None
    for text in [*texts, turn.summary]:
        found = [word for word in late if re.search(rf"\b{re.escape(word)}\b", text.lower())]
        assert not found, f"{flow_id} at 08:00: {found} in {text!r}"


def test_the_weekly_reminder_promises_the_time_its_check_in_takes() -> None:
    """The weekly reminder starts the weekly check-in: whatever time it promises is the
    check-in's own `minutes`."""
    from bot.slack.views.reminder import WEEKLY_FLOW
    from bot.weekly import copy as weekly_copy

    minutes = FLOWS[WEEKLY_FLOW].minutes
    promised: list[str] = []
    for key in ("reminder.fallback", "reminder.consent", "reminder.weekly", "reminder.asked_for"):
        said = weekly_copy.text(key, lead="L", channel="C", when="Friday 16:00").lower()
        promised += re.findall(rf"\b({'|'.join(NUMBER_WORDS)})[ -]minutes?\b", said)
    assert promised and set(promised) == {NUMBER_WORDS[minutes - 1]}
