"""Payloads as Slack sends them (Events API, slash commands, interactivity)."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import urlencode

_ids = itertools.count(1)


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = "T1",
    api_app_id: str = "A1",
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": 1_700_000_000,
        "authorizations": [
            {"team_id": team_id, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
        ],
    }


def message_im(user: str, text: str, *, channel: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = f"{1_700_000_000 + next(_ids)}.000200"
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel or f"D{user}",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **extra,
    }


def home_opened(user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}


def slash_command(
    user: str,
    text: str,
    *,
    team_id: str = "T1",
    channel_id: str | None = None,
    response_url: str = "https://hooks.slack.invalid/commands/1",
    enterprise_id: str | None = None,
) -> bytes:
    grid = {"enterprise_id": enterprise_id} if enterprise_id else {}
    return urlencode(
        grid
        | {
            "token": "legacy",
            "team_id": team_id,
            "team_domain": "test",
            "channel_id": channel_id or f"D{user}",
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/reflect",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"trigger-{next(_ids)}",
        }
    ).encode()


def block_actions(
    user: str,
    *,
    message: dict[str, Any],
    channel: str,
    action: dict[str, Any],
    state: dict[str, Any] | None = None,
    team_id: str = "T1",
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "token": "legacy",
        "team": {"id": team_id, "domain": "test"},
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"trigger-{next(_ids)}",
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "state": {"values": state or {}},
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{**action, "action_ts": "1700000000.1"}],
    }


def home_action(user: str, *, action: dict[str, Any], team_id: str = "T1") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "team": {"id": team_id, "domain": "test"},
        "container": {"type": "view", "view_id": "V1"},
        "trigger_id": f"trigger-{next(_ids)}",
        "view": {"id": "V1", "type": "home", "callback_id": "", "state": {"values": {}}},
        "actions": [{**action, "action_ts": "1700000000.1"}],
    }


def view_submission(user: str, *, callback_id: str, team_id: str = "T1") -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{next(_ids)}",
        "view": {
            "id": "V2",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": "",
            "state": {"values": {}},
        },
    }


def interactive_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()
