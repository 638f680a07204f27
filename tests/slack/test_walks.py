"""Whole flows walked end to end over HTTP: by DM, by slash command, and by buttons."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from bot.engine import messages
from bot.slack.views import copy
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, Served, SlackSide, buttons, make_bot, texts


def _finished(sam: Leader, bot: Bot) -> str:
    everything = "\n".join(texts(m) for m in sam.messages())
    assert "Your reflection: After a hard day" in everything
    assert len(bot.store.reflections(sam.person)) == 1
    assert bot.conversations.current(sam.person) is None
    return everything


def _suggestion_buttons(sam: Leader) -> dict[str, dict]:
    last = sam.messages()[-1]
    return {element["action_id"]: element for _, element in buttons(last)}


def test_a_whole_flow_by_direct_message(sam: Leader, bot: Bot) -> None:
    sam.says("hi")
    offer = sam.messages()[-1]
    assert "Hello, Sam" in texts(offer)
    assert next(e["value"] for _, e in buttons(offer)) == "hard-day"

    sam.says("hard day")
    assert "Thank you for stopping for a moment, Sam" in texts(sam.messages()[-1])
    steps = sam.answer_everything(by="typing")

    assert steps[0] == "what_happened" and len(steps) >= 4
    _finished(sam, bot)
    suggestion = _suggestion_buttons(sam)
    assert suggestion["supervisor_open:0"]["url"].startswith("https://")
    assert suggestion["supervisor_open:0"]["text"]["text"] == copy.text("booking.open")
    assert "suggestion_not_now" in suggestion


def test_a_whole_flow_started_by_slash_command_with_pause_and_resume(sam: Leader, bot: Bot) -> None:
    assert sam.types("hard day").status_code == 200
    first = bot.conversations.current(sam.person)
    assert first is not None and first.step_id == "what_happened"
    sam.says("A parent shouted at me in reception")

    sam.types("pause")
    assert "Paused" in texts(sam.messages()[-1])
    assert bot.conversations.current(sam.person) is None

    sam.types("resume")
    assert "Welcome back" in "\n".join(texts(m) for m in sam.messages()[-2:])
    sam.answer_everything(by="typing")
    _finished(sam, bot)


def test_a_whole_flow_by_buttons(sam: Leader, bot: Bot, fake: FakeSlack) -> None:
    sam.says("hello")
    sam.presses("start:hard-day")
    assert bot.conversations.current(sam.person) is not None

    steps = sam.answer_everything(by="clicking")

    _finished(sam, bot)
    assert "weight" in steps and "need" in steps
    answered = [c.args for c in fake.calls("chat.update") if "Your answer:" in json.dumps(c.args)]
    assert len(answered) >= 2, "each clicked question showed its answer"
    for message in answered:
        assert not [
            b
            for b in message["blocks"]
            if b["type"] == "actions" and b.get("block_id", "").startswith("q|")
        ]
    # The reflection has ended: the questions, and the answers shown under them, are gone.
    assert not [m for m in sam.messages() if "q|" in json.dumps(m.get("blocks"))]
    assert len(fake.calls("chat.delete")) >= len(steps) - 1


def test_typed_answers_work_for_steps_with_buttons(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.says("A long shift")
    question = bot.conversations.current(sam.person)
    assert question is not None and question.step_kind == "scale"
    sam.says("light")  # the scale's own words, typed
    after = bot.conversations.current(sam.person)
    assert after is not None and after.step_id != question.step_id


def test_not_now_is_counted_and_takes_the_buttons_away(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.answer_everything()
    block = next(
        b for b, e in buttons(sam.messages()[-1]) if e["action_id"] == "suggestion_not_now"
    )
    sam.presses("suggestion_not_now", block_id=block)
    assert bot.store.last_event(sam.person, "nudge_dismissed") is not None
    assert "suggestion_not_now" not in {e["action_id"] for _, e in buttons(sam.messages()[-1])}


def test_opening_a_booking_page_is_counted_and_not_thanked_as_booking(
    sam: Leader, bot: Bot
) -> None:
    sam.says("hard day")
    sam.answer_everything()
    before = len(sam.messages())
    sam.presses("supervisor_open:0")
    assert bot.store.last_event(sam.person, "nudge_followed") is not None
    assert len(sam.messages()) == before, "nothing is said: opening a page is not booking"


def test_nothing_personal_is_logged_even_at_debug(
    sam: Leader, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "canary-words-4471"
    sam.says("hard day")
    sam.says(f"A meeting about {canary}")
    sam.answer_everything()
    sam.types("export")
    assert caplog.records, "something was logged"
    assert canary not in caplog.text
    assert "U1" not in caplog.text and "DU1" not in caplog.text and "T1:U1" not in caplog.text
    assert "Sam" not in caplog.text


def test_part_of_day_follows_the_persons_own_time_zone(
    fake: FakeSlack, tmp_path: Path, slack: SlackSide
) -> None:
    """18:30 UTC is evening in London and morning in Auckland (07:30 next day)."""
    fake.add_user("U7", first_name="Aroha", tz="Pacific/Auckland")
    bot = make_bot(fake, tmp_path / "nz", now=dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC))
    served = Served(bot.app)
    try:
        aroha = Leader(user_id="U7", slack=SlackSide(url=served.url), fake=fake, bot=bot)
        aroha.says("hard day")
        assert "Aroha" in texts(aroha.messages()[-1])
        aroha.answer_everything()
        summary = bot.store.reflections(aroha.person)[0].summary
        assert "(morning)" in summary, summary
        # Everything posted, as sent: the questions' messages are cleared when a flow ends.
        said = "\n".join(
            json.dumps(call.args) for call in fake.calls() if call.method == "chat.postMessage"
        )
        assert messages.text("time_of_day.before_rest.morning") in said
        assert messages.text("time_of_day.before_rest.evening") not in said
    finally:
        served.close()
        bot.lanes.close()
        bot.store.close()
