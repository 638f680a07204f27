"""Delivery keys: how Reflect recognises its own messages in Slack, to post each one once.

A message posted from a ledger or outbox row carries the row's delivery key in its metadata
(`event_type` says which kind of row). When a post may have reached Slack without its answer
reaching us (the connection dropped, Slack answered 5xx, the process died), the sender looks in
the channel (or the thread) for a message with that key before posting again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Reads one page of conversations.history (or .replies) for these parameters.
Fetch = Callable[[dict[str, Any]], dict[str, Any]]


def delivery_metadata(*, event_type: str, key: str) -> dict[str, Any]:
    """The message metadata that marks a post with its delivery key."""
    return {"event_type": event_type, "event_payload": {"delivery": key}}


def carries(message: dict[str, Any], *, event_type: str, key: str) -> bool:
    """Whether this message was posted with this delivery key."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == event_type and payload.get("delivery") == key)


@dataclass(frozen=True)
class Sought:
    """A message looked for: the one carrying delivery `key` (of `event_type`), posted since
    `since` (a Unix time) in `channel`, or in its thread `thread_ts`."""

    channel: str
    event_type: str
    key: str
    since: float
    thread_ts: str | None = None


def find_posted(fetch: Fetch, sought: Sought) -> str | None:
    """The ts of the message `sought`, None if absent. `fetch` reads conversations.history (or
    .replies, for a thread) and raises when Slack cannot be asked (the caller then tries
    later)."""
    channel, thread_ts, since = sought.channel, sought.thread_ts, sought.since
    cursor = ""
    while True:
        params: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{since:.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        if thread_ts:
            params["ts"] = thread_ts
        if cursor:
            params["cursor"] = cursor
        data = fetch(params)
        for message in data.get("messages") or []:
            if carries(message, event_type=sought.event_type, key=sought.key):
                return str(message["ts"])
        cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor or not data.get("has_more", True):
            return None
