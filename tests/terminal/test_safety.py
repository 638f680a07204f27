"""`reflect chat` and the safety screen: every line typed at any prompt is screened (the flow
picker, the resume prompt and every answer), and the check-in and after-crisis questions are
answered in words. Driven with scripted input on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.engine import safety, sessions
from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.safety import Concern
from bot.engine.signposts import load_signposts
from bot.engine.support import Support, check_in_question
from bot.store.sqlite import SqliteStore
from bot.terminal.chat import chat
from bot.terminal.render import render
from tests.conftest import ROOT, Clock

ME = Person("terminal:me")
CRISIS = "I want to end my life tonight"
CLOSE_TO_RISK = "I've written letters to everyone, just in case"
#: A whole reflection, typed: the picker's choice, then each answer.
WHOLE = ["1", "A parent complaint", "2", "Rattled", "2", "Replaying it", "Walk home"]


def screen(text: str) -> Concern | None:
    if CLOSE_TO_RISK.lower() in text.lower():
        return Concern("check_in")
    return safety.screen(text)


@dataclass
class Terminal:
    """Scripted lines in, everything shown out, in one log: ("read", prompt) and
    ("write", text). After the last line, the end of input (as when piped)."""

    lines: list[str]
    log: list[tuple[str, str]] = field(default_factory=list)

    def read(self, prompt: str) -> str:
        self.log.append(("read", prompt))
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)

    def write(self, text: str) -> None:
        self.log.append(("write", text))

    def shown_after_read(self, number: int) -> list[str]:
        """What was written after the `number`th read, up to the next read."""
        reads = [i for i, (kind, _) in enumerate(self.log) if kind == "read"]
        start = reads[number] + 1
        end = reads[number + 1] if number + 1 < len(reads) else len(self.log)
        return [text for kind, text in self.log[start:end] if kind == "write" and text]


@pytest.fixture
def open_store(tmp_path: Path) -> Iterator[list[SqliteStore]]:
    opened: list[SqliteStore] = []
    yield opened
    for store in opened:
        store.close()


def _conversations(hard_day: Flow, path: Path, opened: list[SqliteStore]) -> Conversations:
    store = SqliteStore.open(path, secret=b"s" * 32)
    opened.append(store)
    return Conversations(
        library=FlowLibrary([hard_day]),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        clock=Clock(),
        screen=screen,
    )


def _run(talk: Conversations, lines: list[str]) -> Terminal:
    terminal = Terminal(list(lines))
    chat(conversations=talk, person=ME, flow_id=None, read=terminal.read, write=terminal.write)
    return terminal


def _pause_part_way(talk: Conversations) -> None:
    talk.start(ME, "hard-day")
    talk.receive(ME, "A parent complaint")
    talk.pause(ME)


SCENARIOS = {
    "nothing in progress": (None, WHOLE),
    "a paused reflection, resumed": (_pause_part_way, ["y", *WHOLE[2:]]),
    "a paused reflection, set aside": (_pause_part_way, ["n", *WHOLE]),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_line_typed_at_every_prompt_is_screened(
    scenario: str, hard_day: Flow, tmp_path: Path, open_store: list[SqliteStore]
) -> None:
    """The input surfaces of `reflect chat`, listed by walking it: every prompt it reads from.
    Each line in turn is replaced by words of crisis; the crisis card must come straight after
    it, whichever prompt read it (a prompt added later is covered too)."""
    prepare, lines = SCENARIOS[scenario]
    baseline_talk = _conversations(hard_day, tmp_path / "baseline.db", open_store)
    if prepare:
        prepare(baseline_talk)
    baseline = _run(baseline_talk, lines)
    reads = sum(1 for kind, _ in baseline.log if kind == "read")
    assert reads >= len(lines)  # every scripted line was read
    prompts = {prompt for kind, prompt in baseline.log if kind == "read"}
    assert len(prompts) >= 2, prompts  # more than one kind of prompt was walked

    card = render(baseline_talk.signposts.signpost(Concern("crisis")))
    for number in range(len(lines)):
        talk = _conversations(hard_day, tmp_path / f"{number}.db", open_store)
        if prepare:
            prepare(talk)
        changed = [*lines[:number], CRISIS, *lines[number + 1 :]]
        terminal = _run(talk, changed)
        shown = terminal.shown_after_read(number)
        prompt = [text for kind, text in terminal.log if kind == "read"][number]
        assert shown and shown[0] == card, f"{scenario}: line {number} at {prompt!r} not screened"


def test_the_check_in_at_the_flow_picker_is_answered_then_the_picker_comes_back(
    hard_day: Flow, tmp_path: Path, open_store: list[SqliteStore]
) -> None:
    talk = _conversations(hard_day, tmp_path / "r.db", open_store)
    terminal = _run(talk, [CLOSE_TO_RISK, "no", "1", "A parent complaint"])
    assert terminal.shown_after_read(0) == [render(check_in_question())]
    assert terminal.log[-2] == ("read", "> ")  # in the flow, at its second question...
    session = talk.store.load_session(ME)  # ...when the input ended, which paused it
    assert session is not None and session.step_id == "weight"


def test_a_yes_at_the_resume_prompt_shows_the_card_then_asks_again(
    hard_day: Flow, tmp_path: Path, open_store: list[SqliteStore]
) -> None:
    talk = _conversations(hard_day, tmp_path / "r.db", open_store)
    _pause_part_way(talk)
    terminal = _run(talk, [CLOSE_TO_RISK, "yes"])
    card = render(talk.signposts.signpost(Concern("crisis")))
    assert terminal.shown_after_read(1) == [card]
    prompts = [text for kind, text in terminal.log if kind == "read"]
    assert prompts[0] == prompts[2]  # the resume prompt again, after the card
    session = talk.store.load_session(ME)
    assert session is not None and session.signposted and session.status == "paused"


def test_after_the_crisis_card_stop_here_pauses_and_closes_with_the_crisis_lines(
    hard_day: Flow, tmp_path: Path, open_store: list[SqliteStore]
) -> None:
    talk = _conversations(hard_day, tmp_path / "r.db", open_store)
    terminal = _run(talk, ["1", CRISIS, "stop here"])
    support = Support(store=talk.store, signposts=talk.signposts, clock=talk.clock)
    assert terminal.shown_after_read(1)[-1] == render(support.after_crisis_offer())
    assert terminal.shown_after_read(2)[-1] == render(support.closing())
    assert terminal.log[-1][0] == "write"  # chat ended by itself, no more prompts
    session = talk.store.load_session(ME)
    assert session is not None and session.status == "paused"


def test_after_the_crisis_card_carry_on_asks_the_same_question(
    hard_day: Flow, tmp_path: Path, open_store: list[SqliteStore]
) -> None:
    talk = _conversations(hard_day, tmp_path / "r.db", open_store)
    terminal = _run(talk, ["1", CRISIS, "carry on"])
    session = talk.store.load_session(ME)
    assert session is not None and session.waiting is None and session.answers == {}
    asked = sessions.ask(hard_day, session, now=talk.clock(), person=ME)
    assert asked.step_id == "what_happened"
    assert terminal.shown_after_read(2)[-1] == render(asked)
