"""What Slack said of each reminder recipient, kept so that every process and every restart
shares one lookup a day: the time zone sealed under the service key (bound to the person's
pseudonym), and in clear only whether they are deactivated or a bot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.slack.delivery.gateway import SlackProfile
from bot.store.times import parse, stamp
from bot.store.weekly.tables import Tables

#: Rows a statement when many profiles are written at once.
KEEP_AT_ONCE = 500


def tz_aad(person: str) -> str:
    return f"weekly/profile/tz/{person}"


class ProfileRows(Tables):
    def keep(self, found: Iterable[tuple[str, SlackProfile]], *, now: dt.datetime) -> None:
        """Write (or replace) what was looked up, in one transaction, many rows a statement."""
        values = [
            {
                "person": person,
                "tz": None
                if not profile.tz
                else self._keyring.seal(profile.tz, aad=tz_aad(person)),
                "deleted": int(profile.deleted),
                "bot": int(profile.is_bot),
                "at": stamp(now),
            }
            for person, profile in found
        ]
        if not values:
            return
        row = "(?, ?, ?, ?, ?)"
        with self._db.writing() as db:
            for start in range(0, len(values), KEEP_AT_ONCE):
                chunk = values[start : start + KEEP_AT_ONCE]
                self._exec(
                    db,
                    "INSERT INTO reminder_profiles (person, tz_sealed, deleted, is_bot,"
                    f" checked_at) VALUES {', '.join([row] * len(chunk))}"
                    " ON CONFLICT (person) DO UPDATE SET tz_sealed = excluded.tz_sealed,"
                    " deleted = excluded.deleted, is_bot = excluded.is_bot,"
                    " checked_at = excluded.checked_at",
                    [v[name] for v in chunk for name in ("person", "tz", "deleted", "bot", "at")],
                )

    def checked_since(self, moment: str | None) -> list[tuple[str, SlackProfile, dt.datetime, str]]:
        """Rows checked after `moment` (a stored stamp; None: all), with their stamp."""
        if moment is None:
            found = self._read("SELECT * FROM reminder_profiles")
        else:
            found = self._read("SELECT * FROM reminder_profiles WHERE checked_at > ?", (moment,))
        out = []
        for row in found:
            sealed = row["tz_sealed"]
            tz = (
                None
                if sealed is None
                else self._keyring.unseal(bytes(sealed), aad=tz_aad(row["person"]))
            )
            profile = SlackProfile(tz=tz, deleted=bool(row["deleted"]), is_bot=bool(row["is_bot"]))
            out.append((row["person"], profile, parse(row["checked_at"]), row["checked_at"]))
        return out

    def forget(self, person: str) -> None:
        self._write("DELETE FROM reminder_profiles WHERE person = ?", (person,))
