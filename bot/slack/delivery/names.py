"""What Reflect may know of a person while talking to them: their first name (to greet) and
time zone (so "this evening" is theirs). Looked up once with users.info and kept in memory
only, never stored."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    first_name: str | None = None
    timezone: str | None = None


class Profiles:
    def __init__(self, *, client: WebClient, size: int = 2000) -> None:
        # Looked up before the ack: no waiting out rate limits here, greet without a name instead.
        self.client = WebClient(
            token=client.token, base_url=client.base_url, timeout=1, retry_handlers=[]
        )
        self.size = size
        self._known: OrderedDict[str, Profile] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, user_id: str) -> Profile:
        with self._lock:
            if user_id in self._known:
                self._known.move_to_end(user_id)
                return self._known[user_id]
        profile = self._look_up(user_id)
        if profile is None:  # not known this time; ask again next time
            return Profile()
        with self._lock:
            self._known[user_id] = profile
            while len(self._known) > self.size:
                self._known.popitem(last=False)
        return profile

    def _look_up(self, user_id: str) -> Profile | None:
        try:
            user = self.client.users_info(user=user_id).get("user") or {}
        except (SlackClientError, OSError) as error:
            log.info("no profile: %s", type(error).__name__)
            return None
        first = str((user.get("profile") or {}).get("first_name") or "").strip()
        return Profile(first_name=first or None, timezone=user.get("tz") or None)
