"""The terminal transport, driven with scripted input (the CLI itself is driven in
tests/terminal/test_cli_chat.py with piped input)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.engine.conversation import Conversations
from bot.engine.people import Person
from bot.terminal.chat import chat
from tests.fakes import MemoryStore

ME = Person("terminal:me")


class Keyboard:
    """Types the given lines, then Ctrl-C (or end of input)."""

    def __init__(self, lines: list[str], *, then: type[BaseException] = EOFError) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._then = then
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        try:
            return next(self._lines)
        except StopIteration:
            raise self._then from None


@pytest.fixture
def screen() -> list[str]:
    return []


def test_choosing_by_number_and_finishing_a_flow(
    conversations: Conversations, store: MemoryStore, screen: list[str]
) -> None:
    keys = Keyboard(["1", "Rota gaps again", "2", "Tired", "3", "The rota", "Early night"])
    status = chat(
        conversations=conversations, person=ME, flow_id=None, read=keys, write=screen.append
    )
    shown = "\n".join(screen)
    assert status == 0
    assert "1) After a hard day" in shown
    assert "very heavy  [ 1  2  3  4  5 ]  light" in shown  # a scale as a row
    assert "     3) A plan for tomorrow" in shown  # choices numbered
    assert "Putting down tonight: The rota" in shown
    assert len(store.reflections(ME)) == 1


def test_ctrl_c_pauses_and_the_next_chat_resumes(
    conversations: Conversations, store: MemoryStore, screen: list[str]
) -> None:
    chat(
        conversations=conversations,
        person=ME,
        flow_id="hard-day",
        read=Keyboard(["Rota gaps again"], then=KeyboardInterrupt),
        write=screen.append,
    )
    assert "Paused" in screen[-1]
    session = store.load_session(ME)
    assert session is not None and session.status == "paused"

    screen.clear()
    keys = Keyboard(["", "4", "Fine", "rest", "Emails", "skip"])
    assert (
        chat(conversations=conversations, person=ME, flow_id=None, read=keys, write=screen.append)
        == 0
    )
    assert "in progress" in keys.prompts[0]
    assert store.reflections(ME)[0].answers[0].value == "Rota gaps again"


def test_an_unknown_choice_is_asked_again(conversations: Conversations, screen: list[str]) -> None:
    keys = Keyboard(["99", "tiny", "3", "skip"])
    chat(conversations=conversations, person=ME, flow_id=None, read=keys, write=screen.append)
    assert any("number from 1 to 2" in line for line in screen)
    assert any("Mood 3." in line for line in screen)


def test_stop_at_the_menu_leaves_quietly(conversations: Conversations, screen: list[str]) -> None:
    assert (
        chat(
            conversations=conversations,
            person=ME,
            flow_id=None,
            read=Keyboard(["stop"]),
            write=screen.append,
        )
        == 0
    )
