"""The safety screen's outcomes in Slack, over HTTP with real signatures: the crisis card and the
buttons that follow it, the check-in question and its buttons, the gentle card; DMs of every
subtype a person writes (and the thread they wrote in), and text after /reflect."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.engine import safety
from bot.engine.people import Person
from bot.engine.reflections import Event
from bot.engine.safety import Concern
from bot.slack.views import copy
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, buttons

CRISIS = "I can't do this any more. I want to end my life tonight."
CLOSE_TO_RISK = "I've written letters to everyone, just in case"
OTHERS = "A pupil disclosed self-harm today"
THREAD = "1700000000.000100"


def screen(text: str) -> Concern | None:
    if CLOSE_TO_RISK.lower() in text.lower():
        return Concern("check_in")
    return safety.screen(text)


@pytest.fixture(autouse=True)
def scripted_screen(bot: Bot) -> None:
    bot.conversations.screen = screen


@pytest.fixture(autouse=True)
def recorded(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """The name of each event the bot records, in order. (The file keeps these events sealed
    under the person's key: their names cannot be read from it.)"""
    names: list[Event] = []
    keep = bot.store.record

    def record(
        person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        keep(person, event, at=at, flow_id=flow_id)
        names.append(event)

    monkeypatch.setattr(bot.store, "record", record)
    return names


def _headers(message: dict[str, Any]) -> list[str]:
    blocks = message.get("blocks") or []
    return [str(b["text"]["text"]) for b in blocks if b.get("type") == "header"]


def _is_card(message: dict[str, Any], *, key: str = "signpost.heading") -> bool:
    return copy.text(key) in _headers(message)


def _block_ids(message: dict[str, Any]) -> list[str]:
    return [str(block.get("block_id", "")) for block in message.get("blocks") or []]


def _asks(message: dict[str, Any], question: str) -> bool:
    return any(block_id.startswith(f"{question}|") for block_id in _block_ids(message))


def _action_ids(message: dict[str, Any]) -> list[str]:
    return [element.get("action_id", "") for _, element in buttons(message)]


def _events(bot: Bot, recorded: list[Event], leader: Leader) -> list[Event]:
    for event in set(recorded):  # each one kept, and read back through the store
        assert bot.store.last_event(leader.person, event) is not None, event
    return recorded


# ---------------------------------------------------------------------- crisis


def _in_the_debrief_says(sam: Leader, words: str) -> None:
    """Sam starts the debrief after a hard day and says `words` in it."""
    sam.says("hard day")
    sam.says(words)


def test_crisis_mid_flow_shows_the_card_then_the_three_buttons_not_the_next_question(
    sam: Leader, bot: Bot, recorded: list[Event]
) -> None:
    sam.says("hard day")
    before = len(sam.messages())
    sam.says(CRISIS)
    new = sam.messages()[before:]
    assert _is_card(new[0])
    assert _asks(new[-1], "after_crisis")
    assert _action_ids(new[-1]) == [
        "after_crisis:carry_on",
        "after_crisis:stop",
        "after_crisis:numbers",
    ]
    assert not any(_asks(m, "q") for m in new)  # no next question as if nothing happened
    assert _events(bot, recorded, sam) == ["signpost_shown"]


def test_carry_on_asks_the_same_question_and_takes_the_buttons_away(sam: Leader, bot: Bot) -> None:
    _in_the_debrief_says(sam, CRISIS)
    offer_ts = sam.messages()[-1]["ts"]
    sam.presses("after_crisis:carry_on")
    question = bot.conversations.current(sam.person)
    assert question is not None and question.step_id == "what_happened"
    offer = next(m for m in sam.messages() if m["ts"] == offer_ts)
    assert "after_crisis:carry_on" not in _action_ids(offer)  # answered, once
    sam.says("A long shift")
    after = bot.conversations.current(sam.person)
    assert after is not None and after.step_id == "weight"


def test_stop_here_pauses_and_closes_with_the_crisis_lines(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.says("A parent complaint")
    sam.says(CRISIS)
    sam.presses("after_crisis:stop")
    assert _is_card(sam.messages()[-1], key="signpost.closing_heading")
    assert bot.conversations.current(sam.person) is None
    session = bot.store.load_session(sam.person)
    assert session is not None and session.status == "paused" and session.answers


def test_show_the_numbers_again(sam: Leader, bot: Bot, recorded: list[Event]) -> None:
    _in_the_debrief_says(sam, CRISIS)
    before = len(sam.messages())
    sam.presses("after_crisis:numbers")
    new = sam.messages()[before:]
    assert _is_card(new[0]) and _asks(new[-1], "after_crisis")
    assert _events(bot, recorded, sam) == ["signpost_shown", "signpost_shown"]


def test_finishing_after_a_crisis_ends_with_the_crisis_lines_not_a_booking_button(
    sam: Leader, bot: Bot
) -> None:
    _in_the_debrief_says(sam, CRISIS)
    sam.says("carry on")  # typed works too
    sam.answer_everything()
    last = sam.messages()[-1]
    assert _is_card(last, key="signpost.closing_heading")
    everything = [a for m in sam.messages() for a in _action_ids(m)]
    assert not [a for a in everything if a.startswith("nudge_")]
    assert len(bot.store.reflections(sam.person)) == 1


# ---------------------------------------------------------------------- check-in


def test_the_check_in_asks_with_yes_not_sure_no(
    sam: Leader, bot: Bot, recorded: list[Event]
) -> None:
    _in_the_debrief_says(sam, CLOSE_TO_RISK)
    asked = sam.messages()[-1]
    assert _asks(asked, "check_in")
    assert _action_ids(asked) == ["check_in:yes", "check_in:not_sure", "check_in:no"]
    assert _events(bot, recorded, sam) == ["check_in_asked"]


@pytest.mark.parametrize("answer", ["yes", "not_sure"])
def test_anything_but_no_shows_the_crisis_card(
    sam: Leader, bot: Bot, answer: str, recorded: list[Event]
) -> None:
    _in_the_debrief_says(sam, CLOSE_TO_RISK)
    before = len(sam.messages())
    sam.presses(f"check_in:{answer}")
    new = sam.messages()[before:]
    assert _is_card(new[0]) and _asks(new[-1], "after_crisis")
    assert "signpost_shown" in _events(bot, recorded, sam)


@pytest.mark.parametrize("how", ["clicked", "typed"])
def test_no_carries_on_with_the_words_that_led_to_the_question(
    sam: Leader, bot: Bot, how: str, recorded: list[Event]
) -> None:
    _in_the_debrief_says(sam, CLOSE_TO_RISK)
    asked_ts = sam.messages()[-1]["ts"]
    if how == "clicked":
        sam.presses("check_in:no")
        asked = next(m for m in sam.messages() if m["ts"] == asked_ts)
        assert not _action_ids(asked)  # the buttons gave way to the answer
    else:
        sam.says("no")
    question = bot.conversations.current(sam.person)
    assert question is not None and question.step_id == "weight"
    session = bot.store.load_session(sam.person)
    assert session is not None and session.answers["what_happened"] == CLOSE_TO_RISK
    assert "signpost_shown" not in _events(bot, recorded, sam)
    assert not any(_is_card(m) for m in sam.messages())


def test_a_click_on_a_question_while_the_check_in_waits_is_not_taken(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.says("A parent complaint")
    question, _ = sam.question_message()
    sam.says(CLOSE_TO_RISK)
    sam.clicks("3", message=question)
    session = bot.store.load_session(sam.person)
    assert session is not None and "weight" not in session.answers
    assert _asks(sam.messages()[-1], "check_in")


def test_someone_elses_click_on_the_check_in_changes_nothing(
    sam: Leader, alex: Leader, bot: Bot
) -> None:
    _in_the_debrief_says(sam, CLOSE_TO_RISK)
    message = sam.messages()[-1]
    block_id = next(b for b in _block_ids(message) if b.startswith("check_in|"))
    action = {"type": "button", "action_id": "check_in:no", "block_id": block_id, "value": "no"}
    alex.slack.interact(
        payloads.block_actions("U2", message=message, channel=sam.dm, action=action)
    )
    bot.settle()
    session = bot.store.load_session(sam.person)
    assert session is not None and session.waiting == "check_in"


# ---------------------------------------------------------------------- others


def test_the_gentle_card_once_and_the_answer_is_taken(
    sam: Leader, bot: Bot, recorded: list[Event]
) -> None:
    sam.says("hard day")
    sam.says(OTHERS)
    sam.says("3")
    sam.says("A colleague mentioned suicide in supervision")
    cards = [m for m in sam.messages() if _headers(m)]
    assert len(cards) == 1 and _is_card(cards[0])
    assert _events(bot, recorded, sam) == ["gentle_signpost_shown"]
    assert not any(_asks(m, "after_crisis") for m in sam.messages())
    session = bot.store.load_session(sam.person)
    assert session is not None and not session.signposted


# ---------------------------------------------------------------------- DMs of every kind


def _file_share(user: str, text: str) -> dict[str, Any]:
    return payloads.message_im(
        user,
        text,
        subtype="file_share",
        upload=False,
        display_as_bot=False,
        files=[{"id": "F1", "name": "notes.txt", "mimetype": "text/plain", "user": user}],
    )


def _me_message(user: str, text: str) -> dict[str, Any]:
    return payloads.message_im(user, text, subtype="me_message")


def _thread_reply(user: str, text: str) -> dict[str, Any]:
    return payloads.message_im(user, text, thread_ts=THREAD, parent_user_id=user)


def _thread_broadcast(user: str, text: str) -> dict[str, Any]:
    root = {"type": "message", "user": user, "text": "earlier", "ts": THREAD, "thread_ts": THREAD}
    return payloads.message_im(user, text, subtype="thread_broadcast", thread_ts=THREAD, root=root)


READ = {
    "file shared with a comment": _file_share,
    "/me message": _me_message,
    "reply in a thread": _thread_reply,
    "thread reply also sent to the DM": _thread_broadcast,
}


@pytest.mark.parametrize("kind", sorted(READ))
def test_a_persons_words_are_screened_and_answered_whatever_the_subtype(
    sam: Leader, bot: Bot, fake: FakeSlack, kind: str
) -> None:
    sam.slack.event(READ[kind]("U1", CRISIS))
    bot.settle()
    (card,) = sam.messages()
    assert _is_card(card)
    (post,) = fake.calls("chat.postMessage")
    assert post.args.get("thread_ts") == (THREAD if "thread" in kind else None)


def test_a_flow_walked_in_a_thread_is_answered_in_the_thread(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    sam.slack.event(_thread_reply("U1", "hard day"))
    sam.slack.event(_thread_reply("U1", "A parent complaint"))
    bot.settle()
    question = bot.conversations.current(sam.person)
    assert question is not None and question.step_id == "weight"
    posts = fake.calls("chat.postMessage")
    assert posts and all(post.args.get("thread_ts") == THREAD for post in posts)


def _hidden(user: str, subtype: str, **rest: Any) -> dict[str, Any]:
    """A hidden message event in the person's DM (an edit or a deletion)."""
    return {
        "type": "message",
        "subtype": subtype,
        "hidden": True,
        "channel": f"D{user}",
        "channel_type": "im",
        "ts": "1700000100.000100",
        **rest,
    }


def _edited(user: str, text: str) -> dict[str, Any]:
    return _hidden(
        user,
        "message_changed",
        message={"type": "message", "user": user, "text": text, "ts": "1700000000.000200"},
        previous_message={"type": "message", "user": user, "text": "before"},
    )


def _deleted(user: str, text: str) -> dict[str, Any]:
    return _hidden(
        user,
        "message_deleted",
        deleted_ts="1700000000.000200",
        previous_message={"type": "message", "user": user, "text": text},
    )


def _bot_message(user: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B9",
        "text": text,
        "channel": f"D{user}",
        "channel_type": "im",
        "ts": "1700000100.000100",
    }


def _own_echo(user: str, text: str) -> dict[str, Any]:
    return payloads.message_im(
        "UBOT", text, channel=f"D{user}", bot_id="B1", bot_profile={"id": "B1", "app_id": "A1"}
    )


IGNORED = {"edit": _edited, "deletion": _deleted, "bot": _bot_message, "own": _own_echo}


@pytest.mark.parametrize("kind", sorted(IGNORED))
def test_edits_deletions_and_bots_are_still_ignored(
    sam: Leader, bot: Bot, fake: FakeSlack, kind: str, recorded: list[Event]
) -> None:
    response = sam.slack.event(IGNORED[kind]("U1", CRISIS))
    bot.settle()
    assert response.status_code == 200
    assert fake.calls("chat.postMessage") == []
    assert _events(bot, recorded, sam) == []


# ---------------------------------------------------------------------- /reflect


def test_text_after_reflect_is_screened_mid_flow(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.types(CRISIS)
    new = sam.messages()
    assert _is_card(new[-2]) and _asks(new[-1], "after_crisis")


@pytest.mark.parametrize("text", [f"weekly {CRISIS}", f"hard day {CLOSE_TO_RISK}"])
def test_text_after_reflect_is_screened_whatever_it_asks_for(
    sam: Leader, bot: Bot, text: str
) -> None:
    sam.types(text)
    last = sam.messages()[-1]
    assert _is_card(last) or _asks(last, "check_in")
    assert bot.conversations.current(sam.person) is None  # nothing else happened
