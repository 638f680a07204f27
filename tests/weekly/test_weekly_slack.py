"""/reflect weekly, the reminder's buttons and the App Home section, through the real Bolt app over
HTTP against the Slack app's fake Slack (tests/slack), with the real store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.engine.people import Person
from bot.slack.delivery.reminder_api import Posted, WebReminderSlack
from bot.store.weekly.teams import Teams
from bot.weekly.service import ReminderService
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Bot, SlackSide, make_bot, settings_for, talking_to
from tests.weekly.harness import connect

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")


def next_london(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """The next `day` (0 = Monday) at hour:minute in London, after tomorrow, in UTC. The bot
    runs on the real clock here, so nudges must be due after the team is switched on."""
    date = dt.datetime.now(UTC).date() + dt.timedelta(days=2)
    while date.weekday() != day:
        date += dt.timedelta(days=1)
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=LONDON).astimezone(UTC)


FRIDAY_4PM = next_london(4, 16, 5)


class UserDmSlack(WebReminderSlack):
    """Slack accepts a user id as the channel of a DM from the app; the Slack app's fake wants
    the DM id, so this test adapter posts there."""

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], entry_id: str
    ) -> Posted:
        return super().post(channel=f"D{channel}", text=text, blocks=blocks, entry_id=entry_id)


@pytest.fixture
def people() -> tuple[User, ...]:
    return (
        User("ULEAD", first_name="Lee"),
        User("U1", first_name="Sam"),
        User("U2", first_name="Alex", tz="America/New_York"),
        User("UADMIN", first_name="Ada", is_admin=True),
        User("UOTHER", first_name="Olu"),
    )


@pytest.fixture(autouse=True)
def ward(fake: FakeSlack) -> None:
    """The team's channel, with the bot in it, in every test's fake Slack."""
    fake.add_channel("C1", members=["ULEAD", "U1", "U2", "UBOT"], name="ward-7")


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    with make_bot(fake, tmp_path, weekly=True) as made:
        yield made


@pytest.fixture
def slack(bot: Bot, fake: FakeSlack) -> Iterator[SlackSide]:
    with talking_to(bot, response_url=f"{fake.url}respond") as side:
        yield side


def reflect(slack: SlackSide, bot: Bot, user: str, text: str) -> str:
    """`/reflect TEXT`: acked with nothing at once, answered through the response URL."""
    fake = bot.fake
    assert fake is not None
    before = len(fake.responses())
    response = slack.command(user, text)
    assert response.status_code == 200 and not response.text  # the ack says nothing
    bot.settle()
    answers = fake.responses()[before:]
    assert len(answers) == 1, answers
    return answers[0]


def send_reminders(fake: FakeSlack, bot: Bot, *, at: dt.datetime) -> None:
    """One round of the scheduler at `at`, as `reflect run` or `reflect nudges run-once` would."""
    service = ReminderService(
        db=bot.store,
        keyring=bot.store.keyring,
        settings=settings_for(fake),
        slack=lambda workspace: UserDmSlack(token="xoxb-test", base_url=fake.url),
    )
    service.runner(clock=lambda: at, sleep=lambda seconds: None).run_once()


def first_reminder(fake: FakeSlack, bot: Bot, slack: SlackSide) -> dict[str, Any]:
    """The lead switches the team on, the Friday round runs: U1's reminder."""
    reflect(slack, bot, "ULEAD", "weekly on <#C1>")
    send_reminders(fake, bot, at=FRIDAY_4PM)
    return reminder_in(fake, "U1")


def reminder_in(fake: FakeSlack, user: str) -> dict[str, Any]:
    found = [
        m
        for m in fake.messages(f"D{user}")
        if (m.get("metadata") or {}).get("event_type") == "reflect_weekly_nudge"
    ]
    assert len(found) == 1, found
    return found[0]


def press(
    slack: SlackSide, bot: Bot, user: str, message: dict[str, Any], action_id: str, *, owner: str
) -> None:
    element = next(
        e
        for b in message["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    action: dict[str, Any] = {
        "type": element["type"],
        "action_id": action_id,
        "block_id": "weekly_nudge",
    }
    if element["type"] == "static_select":
        action["selected_option"] = element["options"][0]
    else:
        action["value"] = element["value"]
    slack.interact(
        payloads.block_actions(user, message=message, channel=f"D{owner}", action=action)
    )
    bot.settle()


def test_a_team_lead_switches_nudges_on_and_their_team_is_nudged(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    answer = reflect(slack, bot, "ULEAD", "weekly on <#C1|ward-7> thursday 9am")
    assert "on for <#C1>: Thursday 09:00" in answer
    assert "own time zone" in answer
    status = reflect(slack, bot, "ULEAD", "weekly status")
    assert "<#C1>: on, Thursday 09:00" in status
    send_reminders(fake, bot, at=next_london(3, 9, 30))
    text = json.dumps(reminder_in(fake, "U1"))
    assert "<@ULEAD> has switched on a weekly reflection" in text
    assert "private to you" in text
    assert fake.messages("DU2") == []  # New York: not 09:00 there yet
    for path in bot.store.path.parent.glob("*.db*"):  # ids sealed or pseudonymised, never clear
        assert b"ULEAD" not in path.read_bytes(), path.name


def test_only_the_lead_an_admin_or_a_configured_person_can_change_it(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    reflect(slack, bot, "ULEAD", "weekly on <#C1|ward-7>")
    assert "Only the person who switched" in reflect(slack, bot, "U1", "weekly off <#C1>")
    assert "Only the person who switched" in reflect(slack, bot, "U1", "weekly on <#C1> mon")
    assert "now Monday 16:00" in reflect(slack, bot, "UADMIN", "weekly on <#C1> mon")
    assert "off for <#C1>" in reflect(slack, bot, "UADMIN", "weekly off <#C1>")
    team = Teams(bot.store, keyring=bot.store.keyring).get("C1")
    assert team is not None and not team.active
    # Switched on again by someone else in the team: they are its lead now.
    assert "on for <#C1>" in reflect(slack, bot, "U1", "weekly on <#C1>")
    assert "off for <#C1>" in reflect(slack, bot, "U1", "weekly off <#C1>")


def test_weekly_admins_from_settings_may_change_any_team(fake: FakeSlack, tmp_path: Path) -> None:
    admins = frozenset({"UOTHER"})
    with (
        make_bot(fake, tmp_path, weekly=True, weekly_admins=admins) as made,
        talking_to(made, response_url=f"{fake.url}respond") as side,
    ):
        reflect(side, made, "ULEAD", "weekly on <#C1>")
        assert "off for <#C1>" in reflect(side, made, "UOTHER", "weekly off <#C1>")


def test_a_channel_the_bot_cannot_read_gets_a_clear_message(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    fake.fail("conversations.members", error="not_in_channel")
    answer = reflect(slack, bot, "ULEAD", "weekly on <#C1|ward-7>")
    assert "/invite @Reflect" in answer
    assert Teams(bot.store, keyring=bot.store.keyring).get("C1") is None


def test_bad_input_gets_a_helpful_answer(fake: FakeSlack, bot: Bot, slack: SlackSide) -> None:
    assert "Which team?" in reflect(slack, bot, "ULEAD", "weekly on ward-7")
    assert "not a day or a time" in reflect(slack, bot, "ULEAD", "weekly on <#C1> teatime")
    assert "/reflect weekly on #channel" in reflect(slack, bot, "ULEAD", "weekly")
    assert "not in <#C1>" in reflect(slack, bot, "UOTHER", "weekly on <#C1>")
    assert "aren't on for <#C1>" in reflect(slack, bot, "ULEAD", "weekly off <#C1>")


def test_not_for_me_opts_out_for_good_and_app_home_opts_back_in(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    nudge = first_reminder(fake, bot, slack)
    press(slack, bot, "U2", nudge, "weekly_not_for_me", owner="U1")  # someone else's click
    teams = Teams(bot.store, keyring=bot.store.keyring)
    assert teams.opted_out_teams(bot.store.keyring.pseudonym("T1:U1")) == []
    press(slack, bot, "U1", nudge, "weekly_not_for_me", owner="U1")
    assert [t.channel for t in teams.opted_out_teams(bot.store.keyring.pseudonym("T1:U1"))] == [
        "C1"
    ]
    updated = reminder_in(fake, "U1")
    assert not [b for b in updated["blocks"] if b.get("type") == "actions"]  # buttons gone
    assert "won't get weekly nudges" in json.dumps(updated)
    # Next week: nothing for U1.
    send_reminders(fake, bot, at=FRIDAY_4PM + dt.timedelta(days=7))
    assert len([m for m in fake.messages("DU1") if m.get("metadata")]) == 1
    # App Home offers "Nudge me again".
    slack.event(payloads.home_opened("U1"))
    bot.settle()
    view = fake.calls("views.publish")[-1].args["view"]
    assert "weekly_opt_in" in json.dumps(view)
    slack.interact(
        payloads.home_action(
            "U1", action={"type": "button", "action_id": "weekly_opt_in", "value": "C1"}
        )
    )
    bot.settle()
    assert teams.opted_out_teams(bot.store.keyring.pseudonym("T1:U1")) == []


def test_remind_me_later_sends_one_reminder(fake: FakeSlack, bot: Bot, slack: SlackSide) -> None:
    nudge = first_reminder(fake, bot, slack)
    press(slack, bot, "U1", nudge, "weekly_later", owner="U1")
    assert "remind you" in json.dumps(reminder_in(fake, "U1"))
    # Real time moves on; the reminder is due three hours after the click.
    rows = (
        connect(bot.store.path)
        .execute("SELECT due_at FROM reminder_ledger WHERE kind = 'reminder'")
        .fetchall()
    )
    assert len(rows) == 1
    due = dt.datetime.fromisoformat(rows[0]["due_at"])
    send_reminders(fake, bot, at=due + dt.timedelta(minutes=1))
    send_reminders(fake, bot, at=due + dt.timedelta(minutes=2))
    reminders = [m for m in fake.messages("DU1") if m.get("metadata")]
    assert len(reminders) == 2
    assert "asked me to remind you" in json.dumps(reminders[1])


def test_the_start_button_starts_the_weekly_check_in(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    reflect(slack, bot, "ULEAD", "weekly on <#C1>")
    send_reminders(fake, bot, at=FRIDAY_4PM)
    before = len(fake.messages("DU1"))
    press(slack, bot, "U1", reminder_in(fake, "U1"), "weekly_start", owner="U1")
    assert len(fake.messages("DU1")) > before  # the check-in's first question
    session = bot.store.load_session(Person(id="T1:U1"))
    assert session is not None and session.flow_id == "weekly-checkin"


def test_typed_in_the_team_channel_the_channel_can_be_left_out(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    slack.command("ULEAD", "weekly on tuesday 8:30am", channel_id="C1")
    bot.settle()
    assert "on for <#C1>: Tuesday 08:30" in fake.responses()[-1]
    slack.command("ULEAD", "weekly off", channel_id="C1")
    bot.settle()
    assert "off for <#C1>" in fake.responses()[-1]
    # In the DM with the bot there is no team to assume.
    assert "Which team?" in reflect(slack, bot, "ULEAD", "weekly on friday")


def test_a_plain_channel_name_or_a_missing_permission_gets_a_clear_answer(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    assert "Which team?" in reflect(slack, bot, "ULEAD", "weekly on #ward-7")
    fake.fail("conversations.members", error="missing_scope")
    assert "channels:read" in reflect(slack, bot, "ULEAD", "weekly on <#C1|ward-7>")


def home_of(fake: FakeSlack, bot: Bot, slack: SlackSide, user: str) -> str:
    slack.event(payloads.home_opened(user))
    bot.settle()
    views = [c for c in fake.calls("views.publish") if c.args.get("user_id") == user]
    return json.dumps(views[-1].args["view"])


def home_click(bot: Bot, slack: SlackSide, user: str, action_id: str, value: str) -> None:
    slack.interact(
        payloads.home_action(
            user, action={"type": "button", "action_id": action_id, "value": value}
        )
    )
    bot.settle()


def test_app_home_shows_a_member_their_nudges_and_lets_them_say_not_for_me(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    reflect(slack, bot, "ULEAD", "weekly on <#C1>")
    send_reminders(fake, bot, at=FRIDAY_4PM)
    home = home_of(fake, bot, slack, "U1")
    assert "You get a weekly reflection nudge from" in home
    assert "<#C1>, Friday 16:00 your time" in home
    home_click(bot, slack, "U1", "weekly_opt_out", "C1")
    home = home_of(fake, bot, slack, "U1")
    assert "weekly_opt_in" in home and "weekly_opt_out" not in home
    send_reminders(fake, bot, at=FRIDAY_4PM + dt.timedelta(days=7))
    assert len([m for m in fake.messages("DU1") if m.get("metadata")]) == 1
    home_click(bot, slack, "U1", "weekly_opt_in", "C1")
    send_reminders(fake, bot, at=FRIDAY_4PM + dt.timedelta(days=14))
    assert len([m for m in fake.messages("DU1") if m.get("metadata")]) == 2


def test_the_leads_home_shows_their_team_and_never_who_took_part(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    reflect(slack, bot, "ULEAD", "weekly on <#C1|ward-7> wed 10:00")
    home = home_of(fake, bot, slack, "ULEAD")
    assert "Weekly reflections" in home
    assert "*<#C1>*: on, Wednesday 10:00" in home
    for member in ("U1", "U2"):
        assert member not in home.replace("ULEAD", "")


def test_another_flow_can_be_chosen_from_the_nudge_and_only_by_its_owner(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    nudge = first_reminder(fake, bot, slack)
    press(slack, bot, "U2", nudge, "weekly_choose", owner="U1")  # not U2's nudge
    assert bot.store.load_session(Person(id="T1:U2")) is None
    assert bot.store.load_session(Person(id="T1:U1")) is None
    press(slack, bot, "U1", nudge, "weekly_choose", owner="U1")
    session = bot.store.load_session(Person(id="T1:U1"))
    chosen = next(
        e
        for b in nudge["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == "weekly_choose"
    )["options"][0]["value"].split(":")[1]
    assert session is not None and session.flow_id == chosen != "weekly-checkin"
