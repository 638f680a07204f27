"""What Reflect may know of a person while talking to them: their first name (to greet) and
time zone (so "this evening" is theirs). Looked up with users.info after the ack, on the
person's lane (`of`), and kept in memory only, never stored; before the ack only what is
remembered is used (`known`), so no request waits on Slack's answer."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.slack.delivery.gateway import look_up, single_shot_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    first_name: str | None = None
    timezone: str | None = None


class Profiles:
    def __init__(self, *, client: WebClient, size: int = 2000) -> None:
        # Looked up on the person's lane, ahead of their replies: no waiting out rate limits
        # there, greet without a name instead.
        self.client = single_shot_client(token=client.token, base_url=client.base_url, timeout=3)
        self.size = size
        self._known: OrderedDict[str, Profile] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, user_id: str) -> Profile:
        """What is remembered of the person, without asking Slack (for before the ack)."""
        with self._lock:
            return self._known.get(user_id) or Profile()

    def of(self, user_id: str) -> Profile:
        """The person's profile: remembered, or looked up (users.info: after the ack only)."""
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
            found = look_up(self.client, user_id)
        except (SlackClientError, OSError) as error:
            log.info("no profile: %s", type(error).__name__)
            return None
        return Profile(first_name=found.first_name, timezone=found.tz)
