"""What the scheduler knows of a person from Slack: time zone, deactivated, bot. Cached by
pseudonym and refreshed after a day, so a team of hundreds costs one users.info each per day."""

from __future__ import annotations

import datetime as dt
import sqlite3

from bot.slack.delivery.reminder_api import NudgeSlack, Profile, SlackRefused

REFRESH_AFTER = dt.timedelta(hours=24)


class Profiles:
    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        slack: NudgeSlack,
        refresh_after: dt.timedelta = REFRESH_AFTER,
    ) -> None:
        self.db = connection
        self.slack = slack
        self.refresh_after = refresh_after
        self._memory: dict[str, tuple[Profile, float]] = {}
        self._unsaved: dict[str, tuple[Profile, float]] = {}

    def cached(self, person: str) -> Profile | None:
        if person in self._memory:
            return self._memory[person][0]
        row = self.db.execute(
            "SELECT tz, deleted, is_bot FROM weekly_people WHERE person = ?", (person,)
        ).fetchone()
        if row is None:
            return None
        return Profile(tz=row["tz"], deleted=bool(row["deleted"]), is_bot=bool(row["is_bot"]))

    def get(self, *, person: str, user: str, now: dt.datetime) -> Profile:
        """The person's profile, from the cache if fresh, else from users.info (which may raise
        RateLimited or SlackUnavailable: the caller decides when to try again)."""
        fresh = self.refresh_after.total_seconds()
        remembered = self._memory.get(person)
        if remembered is not None and now.timestamp() - remembered[1] < fresh:
            return remembered[0]
        row = self.db.execute(
            "SELECT tz, deleted, is_bot, checked_at FROM weekly_people WHERE person = ?",
            (person,),
        ).fetchone()
        if row is not None and now.timestamp() - row["checked_at"] < fresh:
            profile = Profile(
                tz=row["tz"], deleted=bool(row["deleted"]), is_bot=bool(row["is_bot"])
            )
            self._memory[person] = (profile, row["checked_at"])
            return profile
        try:
            profile = self.slack.profile(user)
        except SlackRefused as refused:
            if refused.error not in {"user_not_found", "account_inactive", "user_disabled"}:
                raise
            profile = Profile(tz=None, deleted=True)
        self._memory[person] = self._unsaved[person] = (profile, now.timestamp())
        return profile

    def save(self) -> None:
        """Write the profiles fetched since the last save, in one transaction."""
        if not self._unsaved:
            return
        unsaved, self._unsaved = self._unsaved, {}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO weekly_people (person, tz, deleted, is_bot, checked_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET tz = excluded.tz, "
                "deleted = excluded.deleted, is_bot = excluded.is_bot, "
                "checked_at = excluded.checked_at",
                [
                    (person, profile.tz, int(profile.deleted), int(profile.is_bot), checked)
                    for person, (profile, checked) in unsaved.items()
                ],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
