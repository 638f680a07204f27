"""Privacy as a leader meets it in Slack: the first-use agreement, writing privately, what
typing in the DM means, no reflection text in the DM or its notifications, the operator's
access on the Home tab, and supervisor suggestions clicked only by the person shown them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.engine.people import Person
from bot.slack.listeners import forget
from bot.slack.views import copy
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide, buttons, texts

CANARY = "HeronQuayside"


def _bot_words(fake: FakeSlack, leader: Leader) -> str:
    """Everything the bot ever sent to Slack for the DM: posts, updates, their notification
    text, as sent (not only as they are now)."""
    sent = [
        json.dumps(call.args)
        for call in fake.calls()
        if call.method in ("chat.postMessage", "chat.update")
    ]
    return "\n".join(sent) + json.dumps(leader.messages())


def test_a_newcomer_sees_the_agreement_once_and_can_read_it_again_from_home(
    newcomer: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    newcomer.says("hi")
    first = newcomer.messages()
    assert texts(first[0]).startswith(copy.text("agreement.heading"))
    assert copy.text("agreement.body", days=365, min_group=5).split("\n")[0][:60] in texts(first[0])
    newcomer.says("hi again")
    later = newcomer.messages()[len(first) :]
    assert later and not any(copy.text("agreement.heading") in texts(m) for m in later)

    slack.event(payloads.home_opened("U3"))
    bot.settle()
    home = fake.views["U3"]
    assert any(
        e.get("action_id") == "read_agreement"
        for b in home["blocks"]
        for e in b.get("elements", [])
    )
    slack.interact(
        payloads.home_action("U3", action={"type": "button", "action_id": "read_agreement"})
    )
    bot.settle()
    assert copy.text("agreement.heading") in json.dumps(fake.opened_views[-1])


def test_an_answer_written_privately_is_taken_and_never_in_a_message(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    sam.says("hard day")
    question = bot.conversations.current(sam.person)
    assert question is not None and question.step_kind == "text"
    response = sam.writes_privately(f"{CANARY} shouted at me in the corridor")
    assert response is not None and response.status_code == 200
    session = bot.store.load_session(sam.person)
    assert session is not None and CANARY in session.answers[question.step_id]
    assert bot.conversations.current(sam.person).step_id != question.step_id  # type: ignore[union-attr]
    assert CANARY not in _bot_words(fake, sam)
    updated = [c.args for c in fake.calls("chat.update")]
    assert copy.text("private.answered") in json.dumps(updated[-1])


def test_words_of_risk_written_privately_are_screened_first(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    sam.writes_privately("I want to end my life tonight")
    signposts = [m for m in sam.messages() if texts(m).startswith(copy.text("signpost.heading"))]
    assert signposts, "crisis support is shown"
    assert bot.store.last_event(sam.person, "signpost_shown") is not None


def test_someone_else_cannot_open_or_submit_the_box(sam: Leader, alex: Leader, bot: Bot) -> None:
    sam.says("hard day")
    before = bot.store.load_session(sam.person)
    assert sam.writes_privately("anything", as_user="U2") is None  # no box for Alex
    assert bot.store.load_session(sam.person) == before


def _stale_box(sam: Leader, bot: Bot, fake: FakeSlack) -> dict[str, Any]:
    """A Write privately box opened, then its question answered in the DM meanwhile: the
    submission of that box, to fill in."""
    sam.says("hard day")
    message, block_id = sam.question_message()
    action = {"type": "button", "action_id": "write_privately", "block_id": block_id}
    sam.slack.interact(payloads.block_actions("U1", message=message, channel=sam.dm, action=action))
    bot.settle()
    view = fake.opened_views[-1]
    sam.says("Typed in the DM instead")  # the question is answered meanwhile
    submission = payloads.view_submission("U1", callback_id=view["callback_id"])
    submission["view"]["private_metadata"] = view["private_metadata"]
    return submission


def test_a_box_for_a_question_already_answered_says_so_and_changes_nothing(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    submission = _stale_box(sam, bot, fake)
    before = bot.store.load_session(sam.person)
    submission["view"]["state"] = {"values": {"answer": {"answer_text": {"value": "late"}}}}
    response = sam.slack.interact(submission)
    assert response.json()["response_action"] == "errors"
    assert bot.store.load_session(sam.person) == before


def test_words_of_risk_in_a_box_for_a_question_already_answered_are_still_screened(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    submission = _stale_box(sam, bot, fake)
    words = "I want to end my life tonight"
    submission["view"]["state"] = {"values": {"answer": {"answer_text": {"value": words}}}}
    response = sam.slack.interact(submission)
    bot.settle()
    assert response.status_code == 200 and "response_action" not in (response.text or "")
    assert texts(sam.messages()[-2]).startswith(copy.text("signpost.heading"))
    assert bot.store.last_event(sam.person, "signpost_shown") is not None
    session = bot.store.load_session(sam.person)
    assert session is not None and session.waiting == "after_crisis"
    assert words not in session.answers.values()


def test_typing_an_answer_in_the_dm_is_explained_once(newcomer: Leader, bot: Bot) -> None:
    notice = copy.text("typed.notice")
    newcomer.says("hard day")
    assert not any(notice in texts(m) for m in newcomer.messages()), "not for choosing a flow"
    newcomer.says("A long shift")
    assert sum(notice in texts(m) for m in newcomer.messages()) == 1
    newcomer.says("Another answer")
    assert sum(notice in texts(m) for m in newcomer.messages()) == 1


def test_no_reflection_text_lands_in_the_dm_and_the_questions_go_at_the_end(
    sam: Leader, bot: Bot, fake: FakeSlack, slack: SlackSide
) -> None:
    sam.says("hard day")
    for _ in range(30):
        question = bot.conversations.current(sam.person)
        if question is None:
            break
        if question.step_kind == "text":
            sam.says(f"{CANARY} {question.step_id}")
        elif question.scale is not None:
            sam.clicks(str(question.scale.min))
        elif question.step_kind == "multi":
            sam.clicks([question.choices[0].value])
        else:
            sam.clicks(question.choices[0].value)
    (kept,) = bot.store.reflections(sam.person)
    assert CANARY in kept.summary
    left = sam.messages()
    assert not [m for m in left if "q|" in json.dumps(m.get("blocks"))], "questions cleared"
    assert CANARY not in json.dumps(left)
    for call in fake.calls("chat.postMessage") + fake.calls("chat.update"):
        assert CANARY not in str(call.args.get("text")), "no notification quotes an answer"
    flow = bot.conversations.library.get("hard-day")
    assert flow is not None
    labels = [o.label for s in flow.steps for o in getattr(s, "options", [])]
    assert labels and not any(f"Your answer: {label}" in json.dumps(left) for label in labels)
    # The summary opens in a modal, for its owner only.
    read = next(e for m in left for _, e in buttons(m) if e["action_id"] == "read_reflection")
    sam.presses("read_reflection", value=read["value"])
    assert CANARY in json.dumps(fake.opened_views[-1])


def test_the_operators_access_is_on_the_home_tab(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    on = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)
    bot.store.record_access(sam.person, action="export", reason="subject access request", at=on)
    slack.event(payloads.home_opened("U1"))
    bot.settle()
    words = json.dumps(fake.views["U1"])
    expected = copy.text(
        "home.access_item",
        date="3 Dec 2026",
        what=copy.text("home.access_export"),
        reason="subject access request",
    )
    assert expected in words
    slack.event(payloads.home_opened("U2"))
    bot.settle()
    assert "subject access request" not in json.dumps(fake.views["U2"])


def test_the_forget_modal_says_what_is_kept_and_why() -> None:
    view = json.dumps(forget.confirm_view().to_dict())
    body = copy.text("forget.body")
    assert body.split("\n")[1][:40] in view  # the opt-out marker and the access record


def test_book_a_supervisor_counts_only_its_owner_and_only_once(
    sam: Leader, bot: Bot, fake: FakeSlack, slack: SlackSide
) -> None:
    sam.says("hard day")
    sam.answer_everything()
    message = next(
        m
        for m in reversed(sam.messages())
        if any(e[1]["action_id"].startswith("supervisor_open:") for e in buttons(m))
    )
    block, book = next(
        (b, e) for b, e in buttons(message) if e["action_id"].startswith("supervisor_open:")
    )
    assert block.startswith("supervisor_open|")  # the block names the person it was shown to
    action = {"type": "button", "action_id": book["action_id"], "block_id": block}
    for user in ("U2", "U2", "U1", "U1", "U1"):
        slack.interact(payloads.block_actions(user, message=message, channel="DU1", action=action))
    bot.settle()
    now = dt.datetime.now(dt.UTC)
    found = bot.store.activity(since=now - dt.timedelta(days=2), until=now + dt.timedelta(days=2))
    followed = [e.pseudonym for e in found.events if e.event == "nudge_followed"]
    assert followed == [bot.store.pseudonym(Person("T1:U1"))]


def test_stopping_a_reflection_clears_its_questions_too(sam: Leader, fake: FakeSlack) -> None:
    sam.says("hard day")
    sam.says(f"{CANARY} at the door")
    assert any("q|" in json.dumps(m.get("blocks")) for m in sam.messages())
    sam.types("stop")
    assert not [m for m in sam.messages() if "q|" in json.dumps(m.get("blocks"))]
    sam.says("someone in my team")
    sam.says("stop")
    assert not [m for m in sam.messages() if "q|" in json.dumps(m.get("blocks"))]
