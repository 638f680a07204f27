"""Posting to Slack without falling over.

The client's retry handlers wait out 429s and retry 5xx and dropped connections (for updates,
deletions, views and reads). A post is made once (`post_once`, for the outbox): a 429 is
waited out, but a 5xx or a dropped connection, which may have posted, comes back as "no
answer", and the outbox looks for the post's delivery key (`find_delivered`) before posting
again. What is left is a Slack error (`ok: false`): it is logged by its code only (never ids or
text) and the bot carries on. People whose account is deactivated or gone get no more messages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web import SlackResponse

from bot.slack.delivery.delivery_keys import Sought, delivery_metadata, find_posted
from bot.slack.delivery.gateway import GONE, posting_once, webhook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    """What came of one post made once: its ts, or Slack's refusal (for good: not to be tried
    again), or neither (no usable answer: it may or may not be in Slack)."""

    ts: str | None = None
    refused: str | None = None


class Unanswered(Exception):
    """Slack could not be asked (after the client's retries)."""


class Poster:
    """Posts, updates and views for the conversation, over the gateway's retrying client.
    (`Parts.delivery` holds the app's one Poster; a row of the weekly ledger is a LedgerEntry.)"""

    def __init__(self, *, client: WebClient) -> None:
        self.client = client
        self._once = posting_once(client)
        self._dms: dict[str, str] = {}
        self._gone: set[str] = set()
        self._lock = threading.Lock()

    def is_gone(self, *, channel: str | None = None, user_id: str | None = None) -> bool:
        with self._lock:
            return bool({channel, user_id} & self._gone)

    def known_dm(self, *, user_id: str) -> str | None:
        """The bot's DM with this person, if already opened (no API call)."""
        with self._lock:
            return self._dms.get(user_id)

    def dm_channel(self, *, user_id: str) -> str | None:
        """The bot's DM with this person (opened once, then remembered)."""
        if self.is_gone(user_id=user_id):
            return None
        with self._lock:
            known = self._dms.get(user_id)
        if known:
            return known
        response = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user_id), who=user_id
        )
        channel = (response or {}).get("channel", {}).get("id")
        if channel:
            with self._lock:
                self._dms[user_id] = channel
        return channel

    def post_once(
        self,
        *,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]],
        event_type: str,
        key: str,
        thread_ts: str | None = None,
    ) -> Sent:
        """Post one message marked with its delivery key, without retrying anything that may
        have posted (see `find_delivered`)."""
        if self.is_gone(channel=channel):
            return Sent(refused="gone")
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            response = self._once.chat_postMessage(
                channel=channel,
                text=text,
                blocks=list(blocks),
                metadata=delivery_metadata(event_type=event_type, key=key),
                **extra,
            )
        except SlackApiError as error:
            if error.response.status_code >= 500 or error.response.status_code == 429:
                log.warning("Slack could not take a post: HTTP %s", error.response.status_code)
                return Sent()
            code = str(error.response.get("error", "unknown"))
            log.warning("Slack refused chat.postMessage: %s", code)
            if code in GONE:
                with self._lock:
                    self._gone.add(channel)
            return Sent(refused=code)
        except (SlackClientError, OSError) as error:
            log.warning("Slack call chat.postMessage failed: %s", type(error).__name__)
            return Sent()
        return Sent(ts=str(response.get("ts", "")))

    def find_delivered(self, sought: Sought) -> str | None:
        """The ts of the message `sought`, if it is in its channel (or thread). Raises
        Unanswered if Slack cannot be asked."""
        thread_ts = sought.thread_ts
        method = "conversations.replies" if thread_ts else "conversations.history"
        read = self.client.conversations_replies if thread_ts else self.client.conversations_history

        def fetch(params: dict[str, Any]) -> dict[str, Any]:
            found = self._call(method, lambda: read(**params), who=sought.channel)
            if found is None:
                raise Unanswered(method)
            return found

        return find_posted(fetch, sought)

    def respond(self, response_url: str, *, text: str) -> bool:
        """Answer a slash command after its ack, seen only by the person who typed it."""
        if not response_url:
            return False
        try:
            response = webhook(response_url).send(text=text, response_type="ephemeral")
        except (SlackClientError, OSError) as error:
            log.warning("Slack call response_url failed: %s", type(error).__name__)
            return False
        if response.status_code != 200:
            log.warning("Slack refused response_url: HTTP %s", response.status_code)
        return response.status_code == 200

    def update(
        self, *, channel: str, ts: str, text: str, blocks: Sequence[Block | dict[str, Any]]
    ) -> bool:
        def call() -> SlackResponse:
            return self.client.chat_update(channel=channel, ts=ts, text=text, blocks=list(blocks))

        return self._call("chat.update", call, who=channel) is not None

    def delete(self, *, channel: str, ts: str) -> bool:
        """Delete one of the bot's own messages (chat.delete)."""

        def call() -> SlackResponse:
            return self.client.chat_delete(channel=channel, ts=ts)

        return self._call("chat.delete", call, who=channel) is not None

    def own_messages(
        self, *, channel: str, oldest: str = "0", most: int = 1000
    ) -> list[dict[str, Any]]:
        """The bot's own messages in a channel since `oldest` (a Slack ts), newest first."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(found) < most:

            def call(cursor: str | None = cursor) -> SlackResponse:
                return self.client.conversations_history(
                    channel=channel, oldest=oldest, limit=200, cursor=cursor
                )

            response = self._call("conversations.history", call, who=channel)
            if response is None:
                break
            found += [m for m in response.get("messages") or [] if m.get("bot_id")]
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return found[:most]

    def publish_home(self, *, user_id: str, view: View) -> bool:
        def call() -> SlackResponse:
            return self.client.views_publish(user_id=user_id, view=view)

        return self._call("views.publish", call, who=user_id) is not None

    def open_view(self, *, trigger_id: str, view: View) -> bool:
        def call() -> SlackResponse:
            return self.client.views_open(trigger_id=trigger_id, view=view)

        return self._call("views.open", call, who=None) is not None

    def _call(
        self, method: str, call: Callable[[], SlackResponse], *, who: str | None
    ) -> dict[str, Any] | None:
        """Make one Web API call (slack_sdk's typed method, which validates blocks and views
        and encodes the request as the method wants), turning Slack's refusals into None."""
        try:
            response = call()
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown"))
            log.warning("Slack refused %s: %s", method, code)
            if code in GONE and who:
                with self._lock:
                    self._gone.add(who)
            return None
        except (SlackClientError, OSError) as error:
            log.warning("Slack call %s failed: %s", method, type(error).__name__)
            return None
        return dict(response.data) if isinstance(response.data, dict) else {}
