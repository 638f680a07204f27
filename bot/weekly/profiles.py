"""What the reminders know of a person from Slack: time zone, deactivated, bot.

Kept in the store (bot.store.weekly.profiles: the time zone sealed) and in memory, for a day,
so every process and every restart shares one lookup per person per day. Looked up in bulk:
when more than a few people of a workspace are unknown or stale, one pass over users.list
(pages of PAGE, within its tier's rate: a 429 is waited out for its Retry-After) refreshes them
all; 20,000 people are 100 pages. Only the rest (a handful, or people users.list did not list)
go through users.info one by one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping

from bot.slack.delivery.gateway import GONE
from bot.slack.delivery.reminder_api import (
    Profile,
    RateLimited,
    ReminderSlack,
    SlackRefused,
)
from bot.store.weekly.profiles import ProfileRows
from bot.store.weekly.tables import Transactions

log = logging.getLogger(__name__)

REFRESH_AFTER = dt.timedelta(hours=24)
#: users.list page size (Slack advises no more than 200).
PAGE = 200
#: More unknown people than this in one workspace: one users.list pass rather than users.info.
BULK_FROM = 20
#: How many 429s in a row a users.list pass waits out before giving up until the next round.
PATIENCE = 20

Sleep = Callable[[float], None]


class Profiles:
    """The cache, keyed by pseudonym: memory over the store's rows (when given a store)."""

    def __init__(
        self, db: Transactions | None = None, *, refresh_after: dt.timedelta = REFRESH_AFTER
    ) -> None:
        self.refresh_after = refresh_after
        self._rows = ProfileRows(db) if db is not None else None
        self._memory: dict[str, tuple[Profile, dt.datetime]] = {}
        self._loaded: str | None = None
        self._ever_loaded = False
        self._lock = threading.Lock()

    def load(self) -> None:
        """Take in what other processes (or earlier runs) looked up since the last load."""
        if self._rows is None:
            return
        with self._lock:
            since = self._loaded if self._ever_loaded else None
        found = self._rows.checked_since(since)
        with self._lock:
            self._ever_loaded = True
            for person, profile, at, stamped in found:
                known = self._memory.get(person)
                if known is None or known[1] <= at:
                    self._memory[person] = (profile, at)
                if self._loaded is None or stamped > self._loaded:
                    self._loaded = stamped

    def cached(self, person: str) -> Profile | None:
        with self._lock:
            remembered = self._memory.get(person)
        return remembered[0] if remembered else None

    def zones(self) -> set[str | None]:
        """The time zones of the people looked up so far."""
        with self._lock:
            return {profile.tz for profile, _ in self._memory.values()}

    def _fresh(self, person: str, now: dt.datetime) -> Profile | None:
        with self._lock:
            remembered = self._memory.get(person)
        if remembered is not None and now - remembered[1] < self.refresh_after:
            return remembered[0]
        return None

    def _keep(self, found: Mapping[str, Profile], now: dt.datetime) -> None:
        if self._rows is not None:
            self._rows.keep(found.items(), now=now)
        with self._lock:
            for person, profile in found.items():
                self._memory[person] = (profile, now)

    def get(self, *, person: str, user: str, now: dt.datetime, slack: ReminderSlack) -> Profile:
        """The person's profile, from the cache if fresh, else from users.info (which may raise
        RateLimited or SlackUnavailable: the caller decides when to try again)."""
        fresh = self._fresh(person, now)
        if fresh is not None:
            return fresh
        try:
            profile = slack.profile(user)
        except SlackRefused as refused:
            if refused.error not in GONE:
                raise
            profile = Profile(tz=None, deleted=True)
        self._keep({person: profile}, now)
        return profile

    def look_up_many(
        self,
        people: Mapping[str, str],
        *,
        now: dt.datetime,
        slack: ReminderSlack,
        sleep: Sleep,
        progress: Callable[[], None] = lambda: None,
    ) -> int:
        """Refresh the unknown or stale among `people` (pseudonym: user id, one workspace)
        with one users.list pass when there are more than BULK_FROM of them. Returns how many
        were found that way; the others are left to `get`. Slack trouble ends the pass early
        (what was found is kept). `progress` is called after each page (the planner renews its
        lease there: a pass over 100,000 people takes 25 minutes at Slack's limits)."""
        stale = {user: person for person, user in people.items() if not self._fresh(person, now)}
        if len(stale) <= BULK_FROM:
            return 0
        found: dict[str, Profile] = {}
        cursor = ""
        limited = 0
        pages = 0
        while True:
            try:
                page, cursor = slack.profiles_page(cursor=cursor, limit=PAGE)
            except RateLimited as wait:
                limited += 1
                if limited > PATIENCE:
                    break
                sleep(wait.retry_after)
                continue
            except Exception as error:  # SlackUnavailable, SlackRefused: users.info instead
                log.warning("weekly reminders: users.list failed (%s)", type(error).__name__)
                break
            pages += 1
            limited = 0
            kept = {stale[user]: profile for user, profile in page.items() if user in stale}
            self._keep(kept, now)  # page by page: a pass cut short keeps what it found
            found |= kept
            progress()
            if not cursor or len(found) == len(stale):
                break
        log.info("weekly reminders: %d profiles from %d users.list pages", len(found), pages)
        return len(found)

    def forget(self, person: str) -> None:
        with self._lock:
            self._memory.pop(person, None)
        if self._rows is not None:
            self._rows.forget(person)
