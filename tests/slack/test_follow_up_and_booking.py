"""Follow-up from last time across two reflections in Slack, the follow-up switch on the Home
tab, and the "Book a supervisor" section that is always there."""

from __future__ import annotations

import json
from pathlib import Path

from bot.engine.supervisors import parse_directory
from bot.slack.views import copy
from tests.engine.config_files import ENTRY
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, Served, SlackSide, make_bot, texts


def _home(slack: SlackSide, bot: Bot, fake: FakeSlack) -> dict:
    slack.event(payloads.home_opened("U1"))
    bot.settle()
    return fake.views["U1"]


def test_the_second_reflection_asks_about_the_first_ones_next_step(sam: Leader, bot: Bot) -> None:
    sam.says("hard day")
    first = sam.answer_everything(by="typing")
    assert "how_it_went" not in first  # nothing to follow up yet
    written = "An answer to next_step"  # what answer_everything typed as the next step
    assert bot.store.open_next_step(sam.person) is not None

    sam.says("hard day")
    steps: list[str] = []
    for _ in range(30):
        question = bot.conversations.current(sam.person)
        if question is None:
            break
        steps.append(question.step_id)
        if question.step_id == "how_it_went":
            shown = texts(sam.messages()[-1])
            assert written in shown, "asked in the person's own words"
            sam.clicks("done")
        elif question.step_kind in ("choice", "multi", "follow_up"):
            sam.says("1")
        elif question.step_kind == "scale":
            sam.says("2")
        else:
            sam.says("skip" if question.step_id == "next_step" else "A second answer")
    assert "how_it_went" in steps
    assert bot.store.open_next_step(sam.person) is None, "done settles it"
    newest = bot.store.reflections(sam.person)[0]
    assert written in newest.summary

    sam.says("hard day")
    third = sam.answer_everything(by="typing")
    assert "how_it_went" not in third


def test_follow_up_off_by_typing_and_back_on_from_the_home_tab(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    sam.says("hard day")
    sam.answer_everything()
    sam.says("follow-up off")
    assert not bot.store.follow_up_wanted(sam.person)
    sam.says("hard day")
    assert "how_it_went" not in sam.answer_everything()

    view = _home(slack, bot, fake)
    switch = next(
        b["accessory"]
        for b in view["blocks"]
        if (b.get("accessory") or {}).get("action_id") == "follow_up_switch"
    )
    assert switch["value"] == "on"
    action = {"type": "button", "action_id": "follow_up_switch", "block_id": "f", "value": "on"}
    slack.interact(payloads.home_action("U1", action=action))
    bot.settle()
    assert bot.store.follow_up_wanted(sam.person)
    republished = json.dumps(fake.views["U1"])
    assert json.dumps(copy.text("home.follow_up_switch_off")) in republished
    sam.says("hard day")
    assert "how_it_went" in sam.answer_everything()


def test_the_home_tab_always_has_a_booking_section_with_real_details(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    view = _home(slack, bot, fake)
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert copy.text("home.booking_heading") in headers
    opens = [
        b["accessory"]
        for b in view["blocks"]
        if str((b.get("accessory") or {}).get("action_id", "")).startswith("supervisor_open:")
    ]
    supervisors = bot.conversations.suggestions.supervisors
    assert supervisors and len(opens) == sum(1 for s in supervisors if s.booking_url)
    words = json.dumps(view)
    for supervisor in supervisors:
        for detail in (supervisor.cost, supervisor.format, supervisor.wait):
            assert json.dumps(detail)[1:-1] in words
    assert "example.org" not in words


def test_with_an_email_supervisor_the_booking_email_carries_the_latest_agenda(
    fake: FakeSlack, tmp_path: Path, slack: SlackSide
) -> None:
    directory = parse_directory(ENTRY.format(email="supervision@trust.nhs.uk"))
    bot = make_bot(fake, tmp_path / "email")
    bot.conversations.suggestions = type(bot.conversations.suggestions)(
        supervisors=directory.supervisors
    )
    served = Served(bot.app)
    try:
        side = SlackSide(url=served.url)
        sam = Leader(user_id="U1", slack=side, fake=fake, bot=bot)
        sam.says("prepare for supervision")
        sam.answer_everything()
        # In the DM, the email link carries no agenda: a message stays in the Slack history.
        posted = [
            json.dumps(call.args)
            for call in fake.calls()
            if call.method in ("chat.postMessage", "chat.update")
        ]
        suggestion = next(p for p in reversed(posted) if "mailto:supervision@trust.nhs.uk" in p)
        assert "mailto:supervision@trust.nhs.uk?subject=" in suggestion
        assert "An%20answer%20to%20topics" not in suggestion
        assert not any("An%20answer%20to%20topics" in p for p in posted)
        # On the Home tab (not a message), the email has the latest agenda filled in.
        side.event(payloads.home_opened("U1"))
        bot.settle()
        home = json.dumps(fake.views["U1"])
        assert "mailto:supervision@trust.nhs.uk?subject=" in home
        assert "An%20answer%20to%20topics" in home, "the agenda is in the email"
        side.http.close()
    finally:
        served.close()
        bot.lanes.close()
        bot.store.close()
