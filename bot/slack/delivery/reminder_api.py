"""What the weekly reminders need from Slack, as a port, and its implementation over the
gateway's single-shot policy (bot.slack.delivery.gateway).

The scheduler decides itself when to wait and when to try again (with an injectable clock and
sleep), so this client makes exactly one HTTP request per call: no retry handlers. In particular
a post whose answer was lost is never silently re-posted: it surfaces as `SlackUnavailable` and
the sender looks in the DM before trying again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot.slack.delivery.delivery_keys import Sought, carries, delivery_metadata, find_posted
from bot.slack.delivery.gateway import SlackProfile, look_up, read_profile, single_shot_client
from bot.slack.delivery.retries import retry_after

log = logging.getLogger(__name__)

#: The Slack message metadata type that marks a weekly reminder, with the ledger row id.
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


#: A person as users.info describes them (the gateway's one reading of it).
Profile = SlackProfile


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class ReminderSlack(Protocol):
    def channel_members(self, channel: str) -> list[str]: ...

    def profile(self, user: str) -> Profile: ...

    def profiles_page(self, *, cursor: str, limit: int) -> tuple[dict[str, Profile], str]:
        """One page of users.list: profiles by user id, and the cursor of the next page
        ("" after the last)."""
        ...

    def open_dm(self, user: str) -> str: ...

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], entry_id: str
    ) -> Posted: ...

    def find_reminder(self, *, dm_channel: str, entry_id: str, since: dt.datetime) -> str | None:
        """The ts of the reminder for this ledger row, if it is in the DM."""
        ...


class WebReminderSlack:
    """`ReminderSlack` over slack_sdk's WebClient, one request per call."""

    def __init__(self, *, token: str | None, base_url: str, timeout: int = 30) -> None:
        self.client = single_shot_client(token=token, base_url=base_url, timeout=timeout)

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        call = getattr(self.client, method.replace(".", "_"))
        return self._answer(method, lambda: call(**params).data)

    def _answer(self, method: str, call: Callable[[], object]) -> Any:
        """Slack's answer, or the trouble it ran into as SlackTrouble."""
        try:
            data = call()
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                raise RateLimited(retry_after(error.response.headers or {})) from None
            if status >= 500:
                raise SlackUnavailable(f"{method}: HTTP {status}") from None
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            raise SlackRefused(str(code or f"http_{status}")) from None
        except (URLError, HTTPException, OSError, json.JSONDecodeError) as error:
            raise SlackUnavailable(f"{method}: {type(error).__name__}") from None
        if isinstance(data, SlackProfile):
            return data
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
        found: Profile = self._answer("users.info", lambda: look_up(self.client, user))
        return found

    def profiles_page(self, *, cursor: str, limit: int) -> tuple[dict[str, Profile], str]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        data = self._call("users.list", **params)
        found = {
            str(member["id"]): read_profile(member, str(member["id"]))
            for member in data.get("members", [])
            if isinstance(member, dict) and member.get("id")
        }
        return found, str((data.get("response_metadata") or {}).get("next_cursor") or "")

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
            metadata=delivery_metadata(event_type=METADATA_TYPE, key=entry_id),
        )
        return Posted(channel=str(data["channel"]), ts=str(data["ts"]))

    def find_reminder(self, *, dm_channel: str, entry_id: str, since: dt.datetime) -> str | None:
        sought = Sought(
            channel=dm_channel, event_type=METADATA_TYPE, key=entry_id, since=since.timestamp()
        )
        return find_posted(lambda params: self._call("conversations.history", **params), sought)


def is_reminder(message: dict[str, Any], entry_id: str) -> bool:
    return carries(message, event_type=METADATA_TYPE, key=entry_id)
