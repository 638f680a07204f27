"""The delivery ledger: one row per person per week, written before anything is sent.

A row moves `due` -> `claimed` -> `sent` (or `skipped`). Every move is one conditional UPDATE in
a BEGIN IMMEDIATE transaction, so two senders (threads or processes) never both win a row:

- claim: a `due` row whose time has come, or a `claimed` row whose lease ran out (its sender
  died), becomes `claimed` under a fresh claim token and lease;
- renew: the claimant extends its lease just before it posts, and gives up if it lost the row;
- sent / skipped / release: only the holder of the current claim token can move the row on.

A row claimed more than once may already have been posted (the sender died or lost Slack's
answer after posting), so the sender looks for it in the DM before posting again.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

State = Literal["due", "claimed", "sent", "skipped"]
Kind = Literal["weekly", "reminder"]

#: Why a row was skipped rather than sent.
SkipReason = Literal[
    "late", "opted_out", "deactivated", "left_channel", "team_off", "cannot_message"
]


@dataclass(frozen=True)
class Planned:
    """A nudge the planner wants in the ledger."""

    person: str
    week: str
    kind: Kind
    channel: str
    recipient_sealed: bytes
    consent: bool
    due_at: dt.datetime
    skipped: SkipReason | None = None

    def __repr__(self) -> str:
        return f"Planned({self.week}, {self.kind}, skipped={self.skipped})"


@dataclass(frozen=True)
class Delivery:
    id: str
    person: str
    week: str
    kind: Kind
    channel: str
    recipient_sealed: bytes
    consent: bool
    due_at: dt.datetime
    state: State
    attempts: int
    claim_token: str | None = None
    lease_until: dt.datetime | None = None
    sent_ts: str | None = None
    reason: str | None = None
    created_at: dt.datetime | None = None

    @property
    def in_doubt(self) -> bool:
        """Claimed before: a message may have gone out without the ledger knowing."""
        return self.attempts > 1

    def __repr__(self) -> str:
        return f"Delivery({self.week}, {self.kind}, {self.state}, attempts={self.attempts})"


def _epoch(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be time-zone aware")
    return moment.timestamp()


def _moment(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


def _delivery(row: sqlite3.Row) -> Delivery:
    due_at = _moment(row["due_at"])
    assert due_at is not None
    return Delivery(
        id=row["id"],
        person=row["person"],
        week=row["week"],
        kind=row["kind"],
        channel=row["channel"],
        recipient_sealed=row["recipient_sealed"],
        consent=bool(row["consent"]),
        due_at=due_at,
        state=row["state"],
        attempts=row["attempts"],
        claim_token=row["claim_token"],
        lease_until=_moment(row["lease_until"]),
        sent_ts=row["sent_ts"],
        reason=row["reason"],
        created_at=_moment(row["created_at"]),
    )


class Ledger:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    def _write(self, sql: str, params: dict[str, Any] | tuple[Any, ...]) -> list[sqlite3.Row]:
        """One statement in its own write transaction, taken up front (BEGIN IMMEDIATE) so a
        concurrent writer makes us wait rather than fail."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            rows = self.db.execute(sql, params).fetchall()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return rows

    # ------------------------------------------------------------------ planning

    def add(
        self,
        *,
        person: str,
        week: str,
        kind: Kind,
        channel: str,
        recipient_sealed: bytes,
        consent: bool,
        due_at: dt.datetime,
        now: dt.datetime,
        skipped: SkipReason | None = None,
    ) -> bool:
        """Put a nudge in the ledger, once: False if this person already has one this week."""
        planned = Planned(
            person=person,
            week=week,
            kind=kind,
            channel=channel,
            recipient_sealed=recipient_sealed,
            consent=consent,
            due_at=due_at,
            skipped=skipped,
        )
        return bool(self.add_all([planned], now=now))

    def add_all(self, planned: Iterable[Planned], *, now: dt.datetime) -> list[Planned]:
        """Put many nudges in the ledger in one transaction; returns those that went in (a
        person who already has one that week keeps it)."""
        added: list[Planned] = []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for row in planned:
                cursor = self.db.execute(
                    "INSERT INTO weekly_deliveries (id, person, week, kind, channel, "
                    "recipient_sealed, consent, due_at, state, reason, created_at, updated_at) "
                    "VALUES (:id, :person, :week, :kind, :channel, :sealed, :consent, :due, "
                    ":state, :reason, :now, :now) ON CONFLICT (person, week, kind) DO NOTHING",
                    {
                        "id": uuid.uuid4().hex,
                        "person": row.person,
                        "week": row.week,
                        "kind": row.kind,
                        "channel": row.channel,
                        "sealed": row.recipient_sealed,
                        "consent": int(row.consent),
                        "due": _epoch(row.due_at),
                        "state": "skipped" if row.skipped else "due",
                        "reason": row.skipped,
                        "now": _epoch(now),
                    },
                )
                if cursor.rowcount == 1:
                    added.append(row)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added

    def planned(self, *, weeks: Iterable[str], kind: Kind = "weekly") -> set[tuple[str, str]]:
        """(person, week) pairs already in the ledger for these weeks."""
        weeks = sorted(set(weeks))
        if not weeks:
            return set()
        marks = ",".join("?" for _ in weeks)
        rows = self.db.execute(
            f"SELECT person, week FROM weekly_deliveries WHERE kind = ? AND week IN ({marks})",
            (kind, *weeks),
        )
        return {(row["person"], row["week"]) for row in rows}

    def ever_sent(self, *, person: str, channel: str) -> bool:
        """Whether this person has had a nudge for this team before (then no consent text)."""
        row = self.db.execute(
            "SELECT 1 FROM weekly_deliveries WHERE person = ? AND channel = ? AND state = 'sent' "
            "LIMIT 1",
            (person, channel),
        ).fetchone()
        return row is not None

    # ------------------------------------------------------------------ sending

    def claim(self, *, now: dt.datetime, lease: dt.timedelta) -> Delivery | None:
        """Take the next row whose time has come, or whose claimant's lease ran out."""
        condition = (
            "due_at <= :now AND ((state = 'due' AND COALESCE(retry_at, 0) <= :now) "
            "OR (state = 'claimed' AND lease_until <= :now))"
        )
        rows = self._write(
            "UPDATE weekly_deliveries SET state = 'claimed', claim_token = :token, "
            "lease_until = :lease, attempts = attempts + 1, updated_at = :now "
            f"WHERE id = (SELECT id FROM weekly_deliveries WHERE {condition} "
            f"ORDER BY due_at, id LIMIT 1) AND {condition} RETURNING *",
            {"now": _epoch(now), "lease": _epoch(now + lease), "token": secrets.token_hex(16)},
        )
        return _delivery(rows[0]) if rows else None

    def renew(self, delivery: Delivery, *, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Extend our lease just before posting. False: the row is no longer ours to send."""
        rows = self._write(
            "UPDATE weekly_deliveries SET lease_until = :lease, updated_at = :now "
            "WHERE id = :id AND claim_token = :token AND state = 'claimed' "
            "AND lease_until > :now RETURNING id",
            self._held(delivery, now) | {"lease": _epoch(now + lease)},
        )
        return bool(rows)

    def mark_sent(self, delivery: Delivery, *, ts: str, now: dt.datetime) -> bool:
        """Record the message ts. The DM channel is not kept: it would identify the person."""
        rows = self._write(
            "UPDATE weekly_deliveries SET state = 'sent', sent_ts = :ts, lease_until = NULL, "
            "updated_at = :now "
            "WHERE id = :id AND claim_token = :token AND state = 'claimed' RETURNING id",
            self._held(delivery, now) | {"ts": ts},
        )
        return bool(rows)

    def mark_skipped(self, delivery: Delivery, *, reason: SkipReason, now: dt.datetime) -> bool:
        rows = self._write(
            "UPDATE weekly_deliveries SET state = 'skipped', reason = :reason, "
            "lease_until = NULL, updated_at = :now "
            "WHERE id = :id AND claim_token = :token AND state = 'claimed' RETURNING id",
            self._held(delivery, now) | {"reason": reason},
        )
        return bool(rows)

    def release(self, delivery: Delivery, *, retry_at: dt.datetime, now: dt.datetime) -> bool:
        """Give the row back to be tried again later (Slack was unavailable)."""
        rows = self._write(
            "UPDATE weekly_deliveries SET state = 'due', claim_token = NULL, lease_until = NULL, "
            "retry_at = :retry, updated_at = :now "
            "WHERE id = :id AND claim_token = :token AND state = 'claimed' RETURNING id",
            self._held(delivery, now) | {"retry": _epoch(retry_at)},
        )
        return bool(rows)

    def give_back(self, delivery: Delivery, *, now: dt.datetime) -> bool:
        """Hand back a row we have certainly not posted (we are stopping): as if never claimed."""
        rows = self._write(
            "UPDATE weekly_deliveries SET state = 'due', claim_token = NULL, lease_until = NULL, "
            "attempts = MAX(attempts - 1, 0), updated_at = :now "
            "WHERE id = :id AND claim_token = :token AND state = 'claimed' RETURNING id",
            self._held(delivery, now),
        )
        return bool(rows)

    @staticmethod
    def _held(delivery: Delivery, now: dt.datetime) -> dict[str, Any]:
        return {"id": delivery.id, "token": delivery.claim_token, "now": _epoch(now)}

    # ------------------------------------------------------------------ reading

    def get(self, delivery_id: str) -> Delivery | None:
        row = self.db.execute(
            "SELECT * FROM weekly_deliveries WHERE id = ?", (delivery_id,)
        ).fetchone()
        return _delivery(row) if row else None

    def nudged(self, *, channel: str, week: str) -> dict[str, dt.datetime]:
        """Who was sent this team's weekly nudge that week (pseudonym: when it was due)."""
        rows = self.db.execute(
            "SELECT person, due_at FROM weekly_deliveries WHERE channel = ? AND week = ? "
            "AND kind = 'weekly' AND state = 'sent'",
            (channel, week),
        )
        return {row["person"]: dt.datetime.fromtimestamp(row["due_at"], dt.UTC) for row in rows}

    def purge(self, *, older_than: dt.datetime) -> int:
        """Forget finished rows (sent or skipped) due before `older_than` (retention)."""
        rows = self._write(
            "DELETE FROM weekly_deliveries WHERE state IN ('sent', 'skipped') AND due_at < ? "
            "RETURNING id",
            (_epoch(older_than),),
        )
        self.db.execute("DELETE FROM weekly_people WHERE checked_at < ?", (_epoch(older_than),))
        return len(rows)

    def channels_of(self, person: str) -> set[str]:
        """The teams a person has been nudged for (for their App Home)."""
        rows = self.db.execute(
            "SELECT DISTINCT channel FROM weekly_deliveries WHERE person = ?", (person,)
        )
        return {row["channel"] for row in rows}

    def next_wake(self) -> dt.datetime | None:
        """When a row next becomes claimable (its due time, retry time, or lease end)."""
        row = self.db.execute(
            "SELECT MIN(CASE WHEN state = 'due' THEN MAX(due_at, COALESCE(retry_at, 0)) "
            "ELSE lease_until END) AS wake FROM weekly_deliveries "
            "WHERE state IN ('due', 'claimed')"
        ).fetchone()
        return _moment(row["wake"])

    def counts(self, *, week: str | None = None) -> dict[str, int]:
        """How many rows are in each state (all weeks, or one): for logs and status."""
        where, params = ("WHERE week = ?", (week,)) if week else ("", ())
        rows = self.db.execute(
            f"SELECT state, COUNT(*) AS n FROM weekly_deliveries {where} GROUP BY state", params
        )
        return {row["state"]: row["n"] for row in rows}

    def waiting(self, *, until: dt.datetime) -> list[Delivery]:
        rows = self.db.execute(
            "SELECT * FROM weekly_deliveries WHERE state IN ('due', 'claimed') AND due_at <= ? "
            "ORDER BY due_at",
            (_epoch(until),),
        )
        return [_delivery(row) for row in rows]
