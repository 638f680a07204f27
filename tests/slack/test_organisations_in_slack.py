"""Organisations' own settings in the real Bolt app, against the fake Slack over HTTP: the Home
tab's admin section for admins only, every change checked and refused with its problems, and
each workspace's people getting their own crisis support, supervisors and retention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.slack.services.organisation import (
    DAYS_ACTION,
    DAYS_BLOCK,
    FILE_ACTION,
    FILE_BLOCK,
    FLOW_ACTION,
    FLOW_BLOCK,
)
from bot.slack.views.organisation import EDIT_CHOICES, EDIT_SUPERVISORS, RESET
from bot.store.organisations import OrganisationSettings
from tests.engine.test_organisation import SCHOOL_SIGNPOSTS, SCHOOL_SUPERVISORS
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Bot, SlackSide, make_bot, texts


@pytest.fixture
def people() -> tuple[User, ...]:
    return (
        User("U1", first_name="Sam", is_admin=True),  # an admin of T1
        User("U2", first_name="Alex"),  # in T1, not an admin
        User("U3", "T2", first_name="Kim"),  # another workspace
    )


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    with make_bot(fake, tmp_path, organisations=True) as made:
        yield made


def _team(user: str) -> str:
    return "T2" if user == "U3" else "T1"


def _home(fake: FakeSlack, bot: Bot, slack: SlackSide, user: str) -> dict[str, Any]:
    slack.event(payloads.home_opened(user), team_id=_team(user))
    bot.settle()
    return fake.views[user]


def _action_ids(view: dict[str, Any]) -> set[str]:
    return {
        element.get("action_id")
        for block in view["blocks"]
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]
    }


def _click(slack: SlackSide, bot: Bot, user: str, action_id: str) -> None:
    action = {"type": "button", "action_id": action_id, "block_id": "b"}
    slack.interact(payloads.home_action(user, action=action, team_id=_team(user)))
    bot.settle()


def _submit(
    slack: SlackSide, bot: Bot, user: str, callback_id: str, values: dict[str, Any]
) -> httpx.Response:
    submission = payloads.view_submission(user, callback_id=callback_id, team_id=_team(user))
    submission["view"]["state"] = {"values": values}
    response = slack.interact(submission)
    bot.settle()
    return response


def _file(text: str) -> dict[str, Any]:
    return {FILE_BLOCK: {FILE_ACTION: {"type": "plain_text_input", "value": text}}}


def _errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    if not response.text:
        return {}
    body = response.json()
    return dict(body.get("errors") or {}) if body.get("response_action") == "errors" else {}


def test_only_admins_see_the_organisation_section(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    admin = _home(fake, bot, slack, "U1")
    assert {EDIT_SUPERVISORS, EDIT_CHOICES} <= _action_ids(admin)
    assert RESET not in _action_ids(admin)  # nothing of its own to reset yet
    assert len(admin["blocks"]) <= 100
    for user in ("U2", "U3"):
        assert EDIT_SUPERVISORS not in _action_ids(_home(fake, bot, slack, user))


def test_an_admin_sets_supervisors_checked_like_the_file(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    _click(slack, bot, "U1", EDIT_SUPERVISORS)
    window = fake.opened_views[-1]
    assert window["callback_id"] == EDIT_SUPERVISORS
    broken = SCHOOL_SUPERVISORS.replace("    cost: Paid by the trust\n", "")
    errors = _errors(_submit(slack, bot, "U1", EDIT_SUPERVISORS, _file(broken)))
    assert "supervisors):2: supervisors.0.cost: Field required" in errors[FILE_BLOCK]
    kept = OrganisationSettings(bot.store)
    assert kept.texts("T1") == {}

    assert _errors(_submit(slack, bot, "U1", EDIT_SUPERVISORS, _file(SCHOOL_SUPERVISORS))) == {}
    assert kept.texts("T1") == {"supervisors": SCHOOL_SUPERVISORS}
    assert "Hillside Heads Supervision" in json.dumps(fake.views["U1"])  # the Home tab, redrawn
    assert "Hillside Heads Supervision" in json.dumps(_home(fake, bot, slack, "U2"))
    assert "Hillside Heads Supervision" not in json.dumps(_home(fake, bot, slack, "U3"))
    # The window opens again with what was set.
    _click(slack, bot, "U1", EDIT_SUPERVISORS)
    assert fake.opened_views[-1]["blocks"][0]["element"]["initial_value"] == SCHOOL_SUPERVISORS


def test_someone_who_is_not_an_admin_cannot_change_anything(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    opened = len(fake.opened_views)
    _click(slack, bot, "U2", EDIT_SUPERVISORS)
    assert len(fake.opened_views) == opened
    errors = _errors(_submit(slack, bot, "U2", EDIT_SUPERVISORS, _file(SCHOOL_SUPERVISORS)))
    assert errors and FILE_BLOCK in errors
    assert OrganisationSettings(bot.store).texts("T1") == {}
    # An admin no longer: asked afresh, not remembered.
    _home(fake, bot, slack, "U1")
    fake.users["U1"].is_admin = False
    errors = _errors(_submit(slack, bot, "U1", EDIT_SUPERVISORS, _file(SCHOOL_SUPERVISORS)))
    assert errors and OrganisationSettings(bot.store).texts("T1") == {}


def test_first_flow_and_retention_apply_to_the_workspace_only(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    def choices(flow: str, days: str) -> dict[str, Any]:
        return {
            FLOW_BLOCK: {
                FLOW_ACTION: {"type": "static_select", "selected_option": {"value": flow}}
            },
            DAYS_BLOCK: {DAYS_ACTION: {"type": "plain_text_input", "value": days}},
        }

    _click(slack, bot, "U1", EDIT_CHOICES)
    assert fake.opened_views[-1]["callback_id"] == EDIT_CHOICES
    errors = _errors(_submit(slack, bot, "U1", EDIT_CHOICES, choices("nope", "400")))
    assert set(errors) == {FLOW_BLOCK, DAYS_BLOCK}
    assert "choose from 1 to 365" in errors[DAYS_BLOCK]
    assert _errors(_submit(slack, bot, "U1", EDIT_CHOICES, choices("gibbs", "30"))) == {}

    assert "erased after 30 days" in json.dumps(_home(fake, bot, slack, "U2"))
    assert "erased after 365 days" in json.dumps(_home(fake, bot, slack, "U3"))
    slack.event(payloads.message_im("U2", "hello"))
    slack.event(payloads.message_im("U3", "hello"), team_id="T2")
    bot.settle()
    firsts = {}
    for user in ("U2", "U3"):
        offer = fake.messages(fake.dm_of(user))[-1]
        starts = [
            element["value"]
            for block in offer.get("blocks") or []
            for element in block.get("elements") or []
            if str(element.get("action_id", "")).startswith("start:")
        ]
        firsts[user] = starts[0]
    assert firsts == {"U2": "gibbs", "U3": "hard-day"}

    _home(fake, bot, slack, "U1")
    _click(slack, bot, "U1", RESET)
    assert OrganisationSettings(bot.store).texts("T1") == {}
    assert "erased after 365 days" in json.dumps(_home(fake, bot, slack, "U2"))


def test_each_workspace_shows_its_own_crisis_support(
    fake: FakeSlack, bot: Bot, slack: SlackSide
) -> None:
    # Longer than Slack's box takes (3,000 characters): set as `reflect org set` does.
    now = bot.conversations.clock()
    OrganisationSettings(bot.store).put("T1", "signposts", SCHOOL_SIGNPOSTS, at=now)
    slack.event(payloads.message_im("U2", "I want to kill myself"))
    slack.event(payloads.message_im("U3", "I want to kill myself"), team_id="T2")
    bot.settle()
    school = "\n".join(texts(m) for m in fake.messages(fake.dm_of("U2")))
    other = "\n".join(texts(m) for m in fake.messages(fake.dm_of("U3")))
    assert "Hillside Schools EAP" in school and "Samaritans" in school
    assert "Hillside Schools EAP" not in other and "Samaritans" in other
