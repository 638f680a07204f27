"""What the reminders know of a person from Slack: time zone, deactivated, bot. Looked up with
users.info and kept in memory only, never stored, for a day, so a team of hundreds costs one
lookup each per day while the bot runs (and one each again after a restart)."""

from __future__ import annotations

import datetime as dt
import threading

from bot.slack.delivery.gateway import GONE
from bot.slack.delivery.reminder_api import Profile, ReminderSlack, SlackRefused

REFRESH_AFTER = dt.timedelta(hours=24)


class Profiles:
    """The cache, keyed by pseudonym. One per service, shared by its rounds and threads."""

    def __init__(self, *, refresh_after: dt.timedelta = REFRESH_AFTER) -> None:
        self.refresh_after = refresh_after
        self._memory: dict[str, tuple[Profile, dt.datetime]] = {}
        self._lock = threading.Lock()

    def cached(self, person: str) -> Profile | None:
        with self._lock:
            remembered = self._memory.get(person)
        return remembered[0] if remembered else None

    def zones(self) -> set[str | None]:
        """The time zones of the people looked up so far."""
        with self._lock:
            return {profile.tz for profile, _ in self._memory.values()}

    def get(self, *, person: str, user: str, now: dt.datetime, slack: ReminderSlack) -> Profile:
        """The person's profile, from memory if fresh, else from users.info (which may raise
        RateLimited or SlackUnavailable: the caller decides when to try again)."""
        with self._lock:
            remembered = self._memory.get(person)
        if remembered is not None and now - remembered[1] < self.refresh_after:
            return remembered[0]
        try:
            profile = slack.profile(user)
        except SlackRefused as refused:
            if refused.error not in GONE:
                raise
            profile = Profile(tz=None, deleted=True)
        with self._lock:
            self._memory[person] = (profile, now)
        return profile

    def forget(self, person: str) -> None:
        with self._lock:
            self._memory.pop(person, None)
