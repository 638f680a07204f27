"""The pace of each workspace's reminder posts, one row per workspace, shared by every sender
(threads and processes) through the store, so that together they keep within Slack's limit.

A sender reserves its next slots before it posts: one short write transaction reads the row
(SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE) and moves `next_at` on by one
interval at the current rate for each slot taken. Slots nobody took (every sender busy)
are taken up to CATCH_UP seconds (at most CATCH_UP_POSTS slots) late rather than lost.

The rate is AIMD: after a 429 it is cut by DECREASE (once per Retry-After, however many
senders met that 429), and nobody's slot comes before Retry-After has passed. It then
recovers additively, by RECOVER of the configured rate per second, up to just under the rate
that met the 429 (`peak`), and beyond that ten times more slowly, back up to the configured
rate: so a configured rate above Slack's limit settles just under the limit, probing
it now and then, rather than sawing between the limit and far below it.

Times are epoch seconds of the senders' clock. The workspace is kept as a keyed digest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.store.weekly.tables import Tables

#: The rate is multiplied by this after a 429.
DECREASE = 0.9
#: Per second without a 429, the rate grows by this share of the configured rate...
RECOVER = 0.002
#: ... up to this share of the rate that last met a 429, and beyond it SLOWER times slower.
NEAR = 0.98
SLOWER = 20.0
#: The rate never falls below this share of the configured rate.
FLOOR = 0.05
#: Slots left unused (every sender busy or late) are taken up to this many seconds back, and
#: no more than CATCH_UP_POSTS of them, so that a moment's delay is caught up within Slack's
#: burst rather than lost for good (and never a burst larger than a handful of posts).
CATCH_UP = 1.0
CATCH_UP_POSTS = 5

WORKSPACE_PURPOSE = "weekly/workspace"


@dataclass(frozen=True)
class Pace:
    rate: float
    peak: float
    next_at: float
    cut_at: float
    updated_at: float


def recovered(pace: Pace, *, now: float, ceiling: float) -> float:
    """The rate at `now`: additive increase since the last change, up to `ceiling`."""
    elapsed = max(0.0, now - pace.updated_at)
    step = RECOVER * ceiling
    rate, knee = pace.rate, NEAR * pace.peak
    if rate < knee:
        climb = min(elapsed, (knee - rate) / step)
        rate += step * climb
        elapsed -= climb
    rate += step / SLOWER * elapsed
    return max(FLOOR * ceiling, min(ceiling, rate))


def cut(pace: Pace, *, slot: float, now: float, hold: float, ceiling: float) -> Pace:
    """After a 429 to the post made in `slot`: no slot before `hold`, and the rate cut unless
    this post was reserved before the last cut's hold ended (the same overshoot, paid for)."""
    rate = recovered(pace, now=now, ceiling=ceiling)
    pace = replace(pace, rate=rate, next_at=max(pace.next_at, hold), updated_at=now)
    if slot < pace.cut_at:
        return pace
    return replace(pace, rate=max(FLOOR * ceiling, rate * DECREASE), peak=rate, cut_at=hold)


class PaceRows(Tables):
    def _workspace(self, workspace: str) -> str:
        return self._keyring.digest(workspace, purpose=WORKSPACE_PURPOSE)

    def _select(self, db: Any, key: str) -> Pace | None:
        lock = " FOR UPDATE" if self._dialect.name == "postgresql" else ""
        found = self._exec(
            db,
            "SELECT rate, peak, next_at, cut_at, updated_at FROM reminder_pacing"
            f" WHERE workspace = ?{lock}",
            (key,),
        ).fetchall()
        return Pace(*(float(value) for value in found[0])) if found else None

    def _locked(self, db: Any, key: str, now: float, ceiling: float) -> Pace:
        pace = self._select(db, key)
        if pace is None:
            self._exec(
                db,
                "INSERT INTO reminder_pacing (workspace, rate, peak, next_at, cut_at, updated_at)"
                " VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (workspace) DO NOTHING",
                (key, ceiling, ceiling, now, now),
            )
            pace = self._select(db, key)
        assert pace is not None
        return pace

    def _save(self, db: Any, key: str, pace: Pace) -> None:
        self._exec(
            db,
            "UPDATE reminder_pacing SET rate = ?, peak = ?, next_at = ?, cut_at = ?,"
            " updated_at = ? WHERE workspace = ?",
            (pace.rate, pace.peak, pace.next_at, pace.cut_at, pace.updated_at, key),
        )

    def reserve(self, workspace: str, *, now: float, ceiling: float) -> float:
        """The moment this sender may post (now or later): the next free slot, taken."""
        return self.reserve_many(workspace, now=now, ceiling=ceiling, count=1)[0]

    def reserve_many(
        self, workspace: str, *, now: float, ceiling: float, count: int
    ) -> list[float]:
        """The next `count` free slots, taken in one transaction, one interval apart at the
        current rate: a busy sender pays one round trip for several posts."""
        key = self._workspace(workspace)
        with self._db.writing() as db:
            pace = self._locked(db, key, now, ceiling)
            rate = recovered(pace, now=now, ceiling=ceiling)
            first = max(pace.next_at, now - min(CATCH_UP, CATCH_UP_POSTS / rate))
            slots = [first + index / rate for index in range(count)]
            after = first + count / rate
            self._save(db, key, replace(pace, rate=rate, next_at=after, updated_at=now))
        return slots

    def limited(
        self, workspace: str, *, slot: float, now: float, retry_after: float, ceiling: float
    ) -> None:
        """Slack answered 429 to the post made in `slot`."""
        key = self._workspace(workspace)
        with self._db.writing() as db:
            pace = self._locked(db, key, now, ceiling)
            hold = now + retry_after
            self._save(db, key, cut(pace, slot=slot, now=now, hold=hold, ceiling=ceiling))

    def rate(self, workspace: str) -> float | None:
        """The current rate (for logs and tests)."""
        found = self._read(
            "SELECT rate FROM reminder_pacing WHERE workspace = ?", (self._workspace(workspace),)
        )
        return float(found[0]["rate"]) if found else None
