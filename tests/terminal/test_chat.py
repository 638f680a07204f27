"""The terminal transport, driven with scripted input (the CLI itself is driven in
tests/terminal/test_cli_chat.py with piped input)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.conversation import Conversations
from bot.engine.people import Person
from bot.store.sqlite import SqliteStore
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


@pytest.fixture
def sqlite_conversations(conversations: Conversations, tmp_path: Path) -> Iterator[Conversations]:
    """The same engine on a real SQLite store (encrypted answers, follow-up state)."""
    store = SqliteStore.open(tmp_path / "reflect.db", secret=b"s" * 32)
    yield Conversations(
        library=conversations.library,
        store=store,
        signposts=conversations.signposts,
        clock=conversations.clock,
    )
    store.close()


def test_choosing_by_number_and_finishing_a_flow(
    conversations: Conversations, store: MemoryStore, screen: list[str]
) -> None:
    keys = Keyboard(["1", "Rota gaps again", "2", "skip", "1", "3", "1", "Early night", "2"])
    status = chat(
        conversations=conversations, person=ME, flow_id=None, read=keys, write=screen.append
    )
    shown = "\n".join(screen)
    assert status == 0
    assert "1) After a hard day" in shown
    assert "     1) light\n" in shown and "     5) very heavy" in shown  # a scale's words
    assert "     3) A plan, so I can stop thinking about it" in shown  # choices numbered
    assert "One small step: Early night" in shown
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
    keys = Keyboard(["", "4", "skip", "1", "1", "1", "skip", "3"])
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
    assert any("Mood 3 of 5." in line for line in screen)


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


# ---------------------------------------------------------------------------- follow-up


def _hard_day(next_step: str, *, follow_up: str | None = None) -> list[str]:
    lines = ["Rota gaps again", "3", "skip", "1", "1", "1"]
    if follow_up is not None:
        lines.append(follow_up)
    return [*lines, next_step, "2"]


def _reflect(conversations: Conversations, lines: list[str]) -> str:
    screen: list[str] = []
    status = chat(
        conversations=conversations,
        person=ME,
        flow_id="hard-day",
        read=Keyboard(lines),
        write=screen.append,
    )
    assert status == 0
    return "\n".join(screen)


def test_follow_up_across_reflections_on_a_real_database(
    sqlite_conversations: Conversations,
) -> None:
    """Done settles the next step; carry on asks again; "don't ask" switches follow-up off,
    and a new next step is asked about once it is switched back on."""
    step = "Ring the family at ten"
    assert step in _reflect(sqlite_conversations, _hard_day(step))
    carried = _reflect(sqlite_conversations, _hard_day("skip", follow_up="2"))
    assert carried.count(step) == 2  # asked, and the summary says it is carried on
    done = _reflect(sqlite_conversations, _hard_day("Book supervision", follow_up="1"))
    assert done.count(step) == 2
    asked_new = _reflect(sqlite_conversations, _hard_day("skip", follow_up="4"))
    assert "Book supervision" in asked_new and step not in asked_new
    assert "Book supervision" not in _reflect(sqlite_conversations, _hard_day("skip"))
    sqlite_conversations.set_follow_up(ME, wanted=True)
    assert "Book supervision" in _reflect(sqlite_conversations, _hard_day("skip", follow_up="1"))
    assert "Book supervision" not in _reflect(sqlite_conversations, _hard_day("skip"))


def test_follow_up_can_be_switched_off_at_the_menu(
    conversations: Conversations, store: MemoryStore, screen: list[str]
) -> None:
    keys = Keyboard(["follow-up off", "stop"])
    chat(conversations=conversations, person=ME, flow_id=None, read=keys, write=screen.append)
    assert not store.follow_up_wanted(ME)


def test_a_booking_address_is_printed_whole() -> None:
    from bot.engine.replies import Supervisor, SupervisorSuggestion
    from bot.terminal.render import render

    url = "https://booking.trust.nhs.uk/get-help/help-for-your-staff/a-very-long-path-name/"
    text = render(
        SupervisorSuggestion(
            "Book?", firm=False, supervisors=(Supervisor("S", "Heads", booking_url=url),)
        )
    )
    assert url in text.splitlines()[-1]
