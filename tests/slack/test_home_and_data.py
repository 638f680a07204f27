"""App Home, reading a past reflection, /reflect export, /reflect forget, help and unknown text."""

from __future__ import annotations

import json

from bot.engine.people import Person
from bot.slack.views import export
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide, buttons, texts


def _home(fake: FakeSlack, user: str) -> dict:
    return fake.views[user]


def _reflect(sam: Leader) -> None:
    sam.says("hard day")
    sam.answer_everything()


def test_app_home_has_start_buttons_and_says_what_is_kept(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    slack.event(payloads.home_opened("U1"))
    bot.settle()
    view = _home(fake, "U1")
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    starts = [
        e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("start:")
    ]
    assert starts[0] == "hard-day" and len(starts) == len(bot.conversations.library)
    words = json.dumps(view)
    assert "What is kept, and who can see it" in words
    assert "None yet" in words


def test_app_home_lists_recent_reflections_and_opens_one(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    _reflect(sam)
    slack.event(payloads.home_opened("U1"))
    bot.settle()
    view = _home(fake, "U1")
    read = [
        b["accessory"]
        for b in view["blocks"]
        if (b.get("accessory") or {}).get("action_id") == "read_reflection"
    ]
    assert len(read) == 1 and "After a hard day" in json.dumps(view)

    action = {
        "type": "button",
        "action_id": "read_reflection",
        "block_id": "r",
        "value": read[0]["value"],
    }
    slack.interact(payloads.home_action("U1", action=action))
    bot.settle()
    modal = fake.opened_views[-1]
    assert modal["type"] == "modal"
    assert "After a hard day" in json.dumps(modal)
    stored = bot.store.reflections(sam.person)[0]
    assert stored.summary.split("\n")[0][:40] in json.dumps(modal)


def test_someone_else_cannot_open_my_reflection(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    _reflect(sam)
    mine = bot.store.reflections(sam.person)[0].id
    action = {"type": "button", "action_id": "read_reflection", "block_id": "r", "value": mine}
    slack.interact(payloads.home_action("U2", action=action))
    bot.settle()
    assert fake.opened_views == []


def test_the_home_start_button_starts_a_flow_in_the_dm(
    sam: Leader, bot: Bot, slack: SlackSide
) -> None:
    action = {"type": "button", "action_id": "start:hard-day", "block_id": "s", "value": "hard-day"}
    slack.interact(payloads.home_action("U1", action=action))
    bot.settle()
    assert bot.conversations.current(sam.person) is not None
    assert "question 1" in json.dumps(sam.messages()[-1])


def test_export_opens_in_a_modal_and_posts_nothing(sam: Leader, bot: Bot, fake: FakeSlack) -> None:
    _reflect(sam)
    before = len(sam.messages())
    sam.types("export")
    assert len(sam.messages()) == before, "nothing is posted in the DM"
    view = fake.opened_views[-1]
    exported = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert exported.startswith("# Your reflections in Reflect")
    assert "## After a hard day, finished " in exported
    assert bot.store.reflections(sam.person)[0].summary.splitlines()[0][:30] in exported


def test_a_long_export_is_cut_to_fit_a_modal_and_says_so() -> None:
    long_text = "\n\n".join(f"## Reflection {n}\n" + "words " * 500 for n in range(300))
    view = export.export_view(long_text).to_dict()
    assert len(view["blocks"]) <= 100 and len(json.dumps(view).encode()) <= 250_000
    assert all(len(b["text"]["text"]) <= 3000 for b in view["blocks"] if b["type"] == "section")
    assert view["blocks"][-1]["type"] == "context"  # where the rest is


def test_forget_confirms_in_a_modal_then_erases(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    _reflect(sam)
    sam.says("hard day")  # one in progress too
    sam.types("forget")
    modal = fake.opened_views[-1]
    assert modal["callback_id"] == "forget_confirm"
    assert bot.store.reflections(sam.person), "nothing is erased before confirming"

    response = slack.interact(payloads.view_submission("U1", callback_id="forget_confirm"))

    assert response.status_code == 200
    assert response.json()["response_action"] == "update"
    assert "1 reflection" in json.dumps(response.json())
    assert bot.store.reflections(sam.person) == []
    assert bot.store.load_session(sam.person) is None


def test_help_and_unknown_commands_get_helpful_answers(sam: Leader) -> None:
    sam.types("help")
    assert "/reflect export" in texts(sam.messages()[-1])
    sam.types("dance")
    last = "\n".join(texts(m) for m in sam.messages()[-1:])
    assert 'not sure what "dance" means' in last
    assert "start:hard-day" in json.dumps(sam.messages()[-1])


def test_a_command_typed_in_a_channel_is_answered_in_the_dm(
    sam: Leader, slack: SlackSide, bot: Bot
) -> None:
    response = slack.command("U1", "", channel_id="C123")
    bot.settle()
    assert response.text == "I've sent you a direct message from Reflect."
    assert "start:hard-day" in json.dumps(sam.messages()[-1])


def test_the_home_tab_is_refreshed_when_a_reflection_is_finished(
    sam: Leader, bot: Bot, fake: FakeSlack
) -> None:
    sam.says("hard day")
    sam.answer_everything()
    view = _home(fake, "U1")
    assert "read_reflection" in json.dumps(view), "the new reflection is listed"


def test_the_weekly_section_hook_is_shown_and_the_view_stays_within_100_blocks(
    fake: FakeSlack, bot: Bot
) -> None:
    from slack_sdk.models.blocks import SectionBlock

    from bot.slack.views.home import home_view
    from tests.slack.harness import make_parts

    parts = make_parts(bot)
    person = Person(id="T1:U1")
    view = home_view(parts, person, weekly=lambda p: [SectionBlock(text="weekly here")] * 150)
    blocks = view.to_dict()["blocks"]
    assert len(blocks) == 100
    assert "weekly here" in json.dumps(blocks)
    assert "What is kept, and who can see it" in json.dumps(blocks), "the privacy statement stays"


def test_words_of_risk_typed_after_slash_reflect_get_the_signpost(sam: Leader, bot: Bot) -> None:
    sam.types("i want to end my life")
    first = sam.messages()[-1]["blocks"]
    assert first[0]["type"] == "header" and first[0]["text"]["text"] == "Support, right now"
    assert bot.store.last_event(sam.person, "signpost_shown") is not None


def test_words_of_risk_after_slash_reflect_keep_support_visible_in_the_flow(
    sam: Leader, bot: Bot
) -> None:
    sam.says("hard day")
    sam.types("I want to end my life tonight")
    session = bot.store.load_session(sam.person)
    assert session is not None and session.signposted  # the closing after a crisis reads this
    assert session.waiting == "after_crisis"  # not the next question as if nothing happened
    sam.says("A long shift")
    offer = sam.messages()[-1]
    assert "after_crisis:numbers" in [e["action_id"] for _, e in buttons(offer)]
    sam.presses("after_crisis:numbers")
    assert any("116 123" in json.dumps(m) for m in sam.messages()[-2:])


def test_opening_the_messages_tab_publishes_nothing(
    sam: Leader, bot: Bot, slack: SlackSide, fake: FakeSlack
) -> None:
    slack.event({**payloads.home_opened("U1"), "tab": "messages"})
    bot.settle()
    assert fake.calls("views.publish") == []
