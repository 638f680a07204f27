"""What the weekly nudges need from Slack, as a port, and its slack_sdk implementation.

The scheduler decides itself when to wait and when to try again (with an injectable clock and
sleep), so this client makes exactly one HTTP request per call: no retry handlers. In particular
a post whose answer was lost is never silently re-posted: it surfaces as `SlackUnavailable` and
the sender looks in the DM before trying again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

#: The Slack message metadata type that marks a weekly nudge, with the ledger row id.
METADATA_TYPE = "reflect_weekly_nudge"


class SlackTrouble(Exception):
    """Base of the failures the scheduler handles."""


class RateLimited(SlackTrouble):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class SlackUnavailable(SlackTrouble):
    """No usable answer (connection lost, timeout, 5xx): a post may or may not have happened."""


class SlackRefused(SlackTrouble):
    """Slack answered ok:false, e.g. not_in_channel, account_inactive, user_not_found."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Profile:
    tz: str | None
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class NudgeSlack(Protocol):
    def channel_members(self, channel: str) -> list[str]: ...

    def profile(self, user: str) -> Profile: ...

    def open_dm(self, user: str) -> str: ...

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], entry_id: str
    ) -> Posted: ...

    def find_nudge(self, *, dm_channel: str, entry_id: str, since: dt.datetime) -> str | None:
        """The ts of the nudge for this ledger row, if it is in the DM."""
        ...


class WebNudgeSlack:
    """`NudgeSlack` over slack_sdk's WebClient, one request per call."""

    def __init__(self, *, token: str, base_url: str, timeout: int = 30) -> None:
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        call = getattr(self.client, method.replace(".", "_"))
        try:
            response = call(**params)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                headers = error.response.headers or {}
                raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
                if isinstance(raw, list):
                    raw = raw[0]
                try:
                    wait = float(raw)
                except ValueError:
                    wait = 1.0
                raise RateLimited(max(wait, 0.0)) from None
            if status >= 500:
                raise SlackUnavailable(f"{method}: HTTP {status}") from None
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            raise SlackRefused(str(code or f"http_{status}")) from None
        except (URLError, HTTPException, OSError, json.JSONDecodeError) as error:
            raise SlackUnavailable(f"{method}: {type(error).__name__}") from None
        data = response.data
        if not isinstance(data, dict):
            raise SlackUnavailable(f"{method}: unreadable answer")
        return data

    def channel_members(self, channel: str) -> list[str]:
        members: list[str] = []
        cursor = ""
        while True:
            params: dict[str, Any] = {"channel": channel, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            data = self._call("conversations.members", **params)
            members.extend(str(member) for member in data.get("members", []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return members

    def profile(self, user: str) -> Profile:
        data = self._call("users.info", user=user)["user"]
        return Profile(
            tz=data.get("tz") or None,
            deleted=bool(data.get("deleted")),
            is_bot=bool(data.get("is_bot") or data.get("is_app_user")) or user == "USLACKBOT",
            is_admin=bool(
                data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")
            ),
        )

    def open_dm(self, user: str) -> str:
        return str(self._call("conversations.open", users=user)["channel"]["id"])

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], entry_id: str
    ) -> Posted:
        data = self._call(
            "chat.postMessage",
            channel=channel,
            text=text,
            blocks=blocks,
            metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery": entry_id}},
        )
        return Posted(channel=str(data["channel"]), ts=str(data["ts"]))

    def find_nudge(self, *, dm_channel: str, entry_id: str, since: dt.datetime) -> str | None:
        cursor = ""
        while True:
            params: dict[str, Any] = {
                "channel": dm_channel,
                "oldest": f"{since.timestamp():.6f}",
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                params["cursor"] = cursor
            data = self._call("conversations.history", **params)
            for message in data.get("messages", []):
                if is_nudge(message, entry_id):
                    return str(message["ts"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor or not data.get("has_more", True):
                return None


def is_nudge(message: dict[str, Any], entry_id: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == METADATA_TYPE and payload.get("delivery") == entry_id)
