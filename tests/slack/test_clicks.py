"""Clicks that must not answer: a second click, an old message, someone else's click."""

from __future__ import annotations

import json

from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader


def _to_the_scale(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.says("A difficult meeting")
    question = bot.conversations.current(sam.person)
    assert question is not None and question.step_kind == "scale"


def test_a_double_click_answers_once(sam: Leader, bot: Bot, fake: FakeSlack) -> None:
    _to_the_scale(sam, bot)
    message, _ = sam.question_message()
    sam.clicks("2", message=message)
    after_first = bot.conversations.current(sam.person)
    posts = len(fake.calls("chat.postMessage"))

    sam.clicks("4", message=message)  # the same, stale message clicked again

    assert bot.conversations.current(sam.person) == after_first
    assert len(fake.calls("chat.postMessage")) == posts, "nothing more was posted"
    session = bot.store.load_session(sam.person)
    assert session is not None and session.answers["weight"] == 2
    updated = next(m for m in sam.messages() if m["ts"] == message["ts"])
    assert "Your answer: 2" in json.dumps(updated), "the second click did not overwrite the answer"


def test_a_click_on_an_old_question_after_typing_changes_nothing(sam: Leader, bot: Bot) -> None:
    _to_the_scale(sam, bot)
    message, _ = sam.question_message()
    sam.says("3")  # answered by typing instead
    after_typing = bot.store.load_session(sam.person)

    sam.clicks("5", message=message)

    assert bot.store.load_session(sam.person) == after_typing
    updated = next(m for m in sam.messages() if m["ts"] == message["ts"])
    assert "Your answer: 3" in json.dumps(updated), "the old message shows the typed answer"
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]


def test_a_click_on_a_question_from_a_finished_reflection_changes_nothing(
    sam: Leader, bot: Bot
) -> None:
    _to_the_scale(sam, bot)
    message, _ = sam.question_message()
    sam.answer_everything()
    kept = bot.store.reflections(sam.person)

    sam.clicks("1", message=message)

    assert bot.store.reflections(sam.person) == kept
    assert bot.store.load_session(sam.person) is None
    # The question was deleted when the reflection ended; the late click's update says only
    # that it was answered.
    assert all(m["ts"] != message["ts"] for m in sam.messages())
    late = [c.args for c in sam.fake.calls("chat.update") if c.args["ts"] == message["ts"]]
    assert "Already answered" in json.dumps(late[-1])


def test_someone_elses_click_changes_nothing(
    sam: Leader, alex: Leader, bot: Bot, fake: FakeSlack
) -> None:
    _to_the_scale(sam, bot)
    message, _ = sam.question_message()
    before = bot.store.load_session(sam.person)
    calls = len(fake.calls())

    response = sam.clicks("1", message=message, as_user="U2")

    assert response.status_code == 200
    assert bot.store.load_session(sam.person) == before
    assert bot.store.load_session(alex.person) is None
    new_calls = [c.method for c in fake.calls()[calls:]]
    assert "chat.update" not in new_calls and "chat.postMessage" not in new_calls


def test_a_choice_step_answered_by_button_shows_its_label(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    for _ in range(10):
        question = bot.conversations.current(sam.person)
        assert question is not None
        if question.step_kind == "choice":
            break
        sam.says("2" if question.step_kind in ("scale", "multi") else "Some words")
    message, _ = sam.question_message()
    assert question is not None
    choice = question.choices[1]
    sam.clicks(choice.value, message=message)
    updated = next(m for m in sam.messages() if m["ts"] == message["ts"])
    assert f"Your answer: {choice.label}" in json.dumps(updated)
