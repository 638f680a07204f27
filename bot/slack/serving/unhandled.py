"""Well-formed Slack requests that no listener takes: acknowledged with a 200, and logged at
the level they deserve, never with their content.

Slack counts non-200 answers against an app (repeated failures switch its event subscriptions
off), and some requests come whatever the app asked for: `app_rate_limited`, a click on a
button from an old message, a modal closed with notify_on_close, a shortcut someone added in
the app's settings. Bolt would answer these 404 with a warning; here they get 200.

Wired through Bolt's own hook for unhandled requests (`raise_error_for_unhandled_request` and
the app's error handler), so they are acknowledged after every listener has had its chance.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltResponse

log = logging.getLogger(__name__)

#: How much each kind of request that nothing handles is worth noticing.
LEVELS = {
    "app_rate_limited": logging.WARNING,  # Slack is dropping the app's events for a minute
    "shortcut": logging.INFO,  # Reflect offers none: someone added one in the app settings
    "message_action": logging.INFO,
    "slash_command": logging.INFO,
    "block_actions": logging.DEBUG,  # a click on an old or unknown button
    "interactive_message": logging.DEBUG,
    "view_submission": logging.DEBUG,
    "view_closed": logging.DEBUG,  # a modal closed (a cancelled forget dialog, say)
    "block_suggestion": logging.DEBUG,
    "dialog_submission": logging.DEBUG,
    "dialog_cancellation": logging.DEBUG,
    "dialog_suggestion": logging.DEBUG,
    "workflow_step_edit": logging.DEBUG,
    "event_callback": logging.DEBUG,  # an event Reflect does not act on
}
MESSAGES = {
    "app_rate_limited": "Slack is rate-limiting this app's events (some events of the last "
    "minute were not delivered)",
}


def kind_of(body: dict[str, Any]) -> str:
    """The request's kind, from a fixed list (never a value the sender chose)."""
    if "command" in body and "type" not in body:
        return "slash_command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in LEVELS else "other"


def acknowledge(body: dict[str, Any]) -> BoltResponse:
    kind = kind_of(body)
    message = MESSAGES.get(kind, f"a {kind} request that Reflect does not act on was acknowledged")
    log.log(LEVELS.get(kind, logging.INFO), message)
    return BoltResponse(status=200, body="")
