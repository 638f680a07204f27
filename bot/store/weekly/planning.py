"""What the planners of several processes share: each team's member list, and whose turn it is.

- Member lists (`reminder_members`): what conversations.members last said of a team, sealed
  under the service key (Slack user ids are never kept in clear) and bound to the channel's
  digest, with when it was read. Every process plans from these, so 1,000 teams cost 1,000
  calls when the lists are stale, not 1,000 calls per process per round.
- The planner's lease (`reminder_leases`): one row per named job; whoever holds an unexpired
  lease on `planner` plans, the others go straight to sending. A holder that dies simply lets
  its lease run out.
"""

from __future__ import annotations

import datetime as dt
import json

from bot.store.times import parse, stamp
from bot.store.weekly.tables import Tables


def members_aad(key: str) -> str:
    return f"weekly/members/{key}"


class MemberLists(Tables):
    def read_all(self) -> dict[str, tuple[list[str], dt.datetime]]:
        """Every cached member list by channel digest, with when it was read from Slack."""
        out: dict[str, tuple[list[str], dt.datetime]] = {}
        for row in self._read("SELECT channel, members_sealed, checked_at FROM reminder_members"):
            key = row["channel"]
            text = self._keyring.unseal(bytes(row["members_sealed"]), aad=members_aad(key))
            out[key] = (list(json.loads(text)), parse(row["checked_at"]))
        return out

    def keep(self, channel: str, members: list[str], *, now: dt.datetime) -> None:
        key = self._key(channel)
        sealed = self._keyring.seal(json.dumps(members), aad=members_aad(key))
        self._write(
            "INSERT INTO reminder_members (channel, members_sealed, checked_at) VALUES (?, ?, ?)"
            " ON CONFLICT (channel) DO UPDATE SET members_sealed = excluded.members_sealed,"
            " checked_at = excluded.checked_at",
            (key, sealed, stamp(now)),
        )

    def key(self, channel: str) -> str:
        """The digest a team's list is kept under."""
        return self._key(channel)

    def forget(self, channel: str) -> None:
        self._write("DELETE FROM reminder_members WHERE channel = ?", (self._key(channel),))


class Leases(Tables):
    def take(self, name: str, *, holder: str, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Take (or extend) the lease on `name`: True if it is ours until now + lease."""
        rows = self._write(
            "INSERT INTO reminder_leases (name, holder, lease_until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " lease_until = excluded.lease_until"
            " WHERE reminder_leases.lease_until <= ? OR reminder_leases.holder = excluded.holder"
            " RETURNING name",
            (name, holder, stamp(now + lease), stamp(now)),
        )
        return bool(rows)

    def give_up(self, name: str, *, holder: str) -> None:
        self._write("DELETE FROM reminder_leases WHERE name = ? AND holder = ?", (name, holder))
