"""Every text a person writes goes through the safety screen, on every Slack surface.

The surfaces are listed by walking the Bolt app's registered listeners. Each is either one
that receives a person's own words (and is screened: a test below sends it words of crisis and
expects the crisis card) or one whose payload carries none (and the reason is written here).
A listener added later fails `test_every_listener_is_a_known_surface` until someone decides
which it is and, if it takes words, screens them and adds it to `TAKES_WORDS` with a test.
`test_a_module_with_a_text_input_screens_it` does the same for modals and Home-tab inputs.
(The terminal's prompts are walked in tests/terminal/test_safety.py.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.slack.services.organisation import FILE_ACTION, FILE_BLOCK
from bot.slack.views import copy
from bot.slack.views.organisation import EDIT_SUPERVISORS
from tests.slack import payloads
from tests.slack.harness import Bot, Leader

ROOT = Path(__file__).resolve().parents[2]
CRISIS = "I can't do this any more. I want to end my life tonight."

#: Listeners (module.function) that receive a person's own words, each with the test below that
#: sends it words of crisis.
TAKES_WORDS = {
    "messages.on_message": "direct message",
    "command.on_reflect": "/reflect TEXT",
    "private.on_submit": "the answer box of the Write privately modal",
    "organisation.on_submit": "an admin's organisation settings windows (files, flow, days)",
}

#: Listeners whose payload carries no words a person wrote, and why.
NO_WORDS = {
    "answers.on_button": "an option value from a question's own buttons",
    "answers.on_select": "an option value from a question's own select",
    "answers.on_pick": "ticked boxes: option values; answers nothing until Done",
    "answers.on_done": "the ticked option values",
    "safety_answers.on_check_in": "which of the check-in's three buttons",
    "safety_answers.on_after_crisis": "which of the three buttons after the crisis card",
    "actions.on_start": "a flow id from a start button",
    "actions.on_open": "a click on a supervisor's booking page button",
    "actions.on_not_now": "a click on Not now",
    "private.on_write": "the Write privately button; the words come to private.on_submit",
    "forget.on_confirm": "the forget modal's submit button; the modal has no inputs",
    "home.on_home_opened": "the Home tab was opened",
    "home.on_read": "a reflection id from a Read button",
    "home.on_agreement": "the Home tab's button to read the first-use agreement again",
    "home.on_follow_up": "the Home tab's follow-up switch: on or off",
    "weekly_actions.on_start": "a weekly nudge's button or select: a flow id",
    "weekly_actions.on_answer": "a weekly reminder's Not for me or Later button: its entry id",
    "weekly_actions.on_home_choice": "a Home-tab button: a channel id",
    "organisation.on_click": "an admin's Home-tab button that opens a settings window",
    "organisation.on_reset": "an admin's Home-tab button: back to the defaults",
    "oauth.on_app_uninstalled": "Slack's notice that the app was uninstalled: ids only",
    "oauth.on_tokens_revoked": "Slack's notice that tokens were revoked: user ids only",
    "oauth.on_team_access_revoked": "Slack's notice that workspaces left an org install: ids",
    "oauth.on_team_access_granted": "Slack's notice that workspaces joined an org install: ids",
}

#: What building a text input looks like in Block Kit, by model or by type name.
TEXT_INPUT = re.compile(
    r"PlainTextInputElement|RichTextInputElement|InputBlock|"
    r"[\"']plain_text_input[\"']|[\"']rich_text_input[\"']|dispatch_action"
)
#: What screening looks like: the engine's entry points that screen first.
SCREENS = re.compile(r"\.receive\(|\.screen_input\(")


def _name(listener: Any) -> str:
    function: Callable[..., Any] = listener.ack_function
    return f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"


def test_every_listener_is_a_known_surface(bot: Bot) -> None:
    registered = {_name(listener) for listener in bot.app._listeners}
    unknown = registered - TAKES_WORDS.keys() - NO_WORDS.keys()
    assert not unknown, (
        f"new listeners {sorted(unknown)}: if a person's words can reach them, screen the words "
        "first (Conversations.receive or screen_input) and list them in TAKES_WORDS with a "
        "test; otherwise list them in NO_WORDS with the reason"
    )
    assert registered >= TAKES_WORDS.keys(), "a screened surface is no longer registered"


@pytest.mark.parametrize(
    "path", sorted((ROOT / "bot" / "slack").rglob("*.py")), ids=lambda p: p.name
)
def test_a_module_with_a_text_input_screens_it(path: Path) -> None:
    """A modal or Home-tab input lets a person type; what comes back must be screened where it
    is read (the module that builds the input handles its submission)."""
    source = path.read_text(encoding="utf-8")
    if TEXT_INPUT.search(source):
        assert SCREENS.search(source), f"{path.name} builds a text input but never screens it"


def _is_crisis_card(message: dict[str, Any]) -> bool:
    heading = copy.text("signpost.heading")
    return any(
        block.get("type") == "header" and block["text"]["text"] == heading
        for block in message.get("blocks") or []
    )


def _direct_message(sam: Leader) -> None:
    sam.says(CRISIS)


def _reflect_text(sam: Leader) -> None:
    sam.types(CRISIS)


def _written_privately(sam: Leader) -> None:
    sam.says("hard day")
    assert sam.writes_privately(CRISIS) is not None, "the modal opened"


def _organisation_window(sam: Leader) -> None:
    submission = payloads.view_submission(sam.user_id, callback_id=EDIT_SUPERVISORS)
    box = {"type": "plain_text_input", "value": CRISIS}
    submission["view"]["state"] = {"values": {FILE_BLOCK: {FILE_ACTION: box}}}
    response = sam.slack.interact(submission)
    sam.bot.settle()
    assert response.json()["response_action"] == "errors"  # and nothing was kept


SEND = {
    "messages.on_message": _direct_message,
    "command.on_reflect": _reflect_text,
    "private.on_submit": _written_privately,
    "organisation.on_submit": _organisation_window,
}


@pytest.mark.parametrize("surface", sorted(TAKES_WORDS))
def test_each_surface_that_takes_words_shows_the_crisis_card(
    surface: str, sam: Leader, bot: Bot
) -> None:
    SEND[surface](sam)
    assert any(_is_crisis_card(message) for message in sam.messages())
    assert bot.store.last_event(sam.person, "signpost_shown") is not None
