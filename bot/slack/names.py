"""First names, to greet people: looked up once with users.info and kept in memory only."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)


class FirstNames:
    def __init__(self, *, client: WebClient, size: int = 2000) -> None:
        # Looked up before the ack: no waiting out rate limits here, greet without a name instead.
        self.client = WebClient(
            token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[]
        )
        self.size = size
        self._known: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, user_id: str) -> str | None:
        with self._lock:
            if user_id in self._known:
                self._known.move_to_end(user_id)
                return self._known[user_id]
        name = self._look_up(user_id)
        with self._lock:
            self._known[user_id] = name
            while len(self._known) > self.size:
                self._known.popitem(last=False)
        return name

    def _look_up(self, user_id: str) -> str | None:
        try:
            user = self.client.users_info(user=user_id).get("user") or {}
        except (SlackClientError, OSError) as error:
            log.info("no first name: %s", type(error).__name__)
            return None
        profile = user.get("profile") or {}
        first = profile.get("first_name") or ""
        return first.strip() or None
