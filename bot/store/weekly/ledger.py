"""The weekly reminders' ledger: one row per person per week, written before anything is sent.

A row moves `due` -> `claimed` -> `sent` (or `skipped`). Every move is one conditional UPDATE in
the store's write transaction (BEGIN IMMEDIATE), so two senders (threads or processes) never
both win a row:

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
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from bot.store.times import parse, stamp
from bot.store.weekly.tables import Row, Tables

State = Literal["due", "claimed", "sent", "skipped"]
Kind = Literal["weekly", "reminder"]

#: Why a row was skipped rather than sent.
SkipReason = Literal[
    "late", "opted_out", "deactivated", "left_channel", "team_off", "cannot_message"
]


@dataclass(frozen=True)
class Planned:
    """A reminder the planner wants in the ledger."""

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


@dataclass(frozen=True, kw_only=True)
class LedgerEntry(Planned):
    """One row of the ledger: a weekly reminder for one person, and how far it has got."""

    id: str
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
        return f"LedgerEntry({self.week}, {self.kind}, {self.state}, attempts={self.attempts})"


#: Rows a statement when many are written (ADD) or looked up (READ) at once.
ADD_AT_ONCE = 200
READ_AT_ONCE = 500


def _stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be time-zone aware")
    return stamp(moment)


def _moment(text: str | None) -> dt.datetime | None:
    return None if text is None else parse(text)


#: Ledger columns read as they are stored, and those holding a time.
_AS_STORED = ("id", "person", "week", "kind", "recipient_sealed", "state", "attempts")
_OPTIONAL = ("claim_token", "sent_ts", "reason")
_TIMES = ("lease_until", "created_at")


def _entry(row: Row, channel: str) -> LedgerEntry:
    """A ledger row as a LedgerEntry (times as aware datetimes, consent as a bool)."""
    values: dict[str, Any] = {name: row[name] for name in (*_AS_STORED, *_OPTIONAL)}
    times: dict[str, Any] = {name: _moment(row[name]) for name in _TIMES}
    due_at = parse(row["due_at"])
    consent = bool(row["consent"])
    return LedgerEntry(**values, **times, channel=channel, due_at=due_at, consent=consent)


class Ledger(Tables):
    # ------------------------------------------------------------------ planning

    def add(self, planned: Planned, *, now: dt.datetime) -> bool:
        """Put a reminder in the ledger, once: False if this person already has one this week."""
        return bool(self.add_all([planned], now=now))

    def add_all(self, planned: Iterable[Planned], *, now: dt.datetime) -> list[Planned]:
        """Put many reminders in the ledger in one transaction, many rows a statement; returns
        those that went in (a person who already has one that week keeps it)."""
        wanted = list(planned)
        added: list[Planned] = []
        columns = (
            "id, person, week, kind, channel, channel_sealed, recipient_sealed, consent, due_at, "
            "state, reason, created_at, updated_at"
        )
        with self._db.writing() as db:
            for start in range(0, len(wanted), ADD_AT_ONCE):
                chunk = wanted[start : start + ADD_AT_ONCE]
                values: list[Any] = []
                for row in chunk:
                    values += (
                        uuid.uuid4().hex,
                        row.person,
                        row.week,
                        row.kind,
                        self._key(row.channel),
                        self._sealed(row.channel),
                        row.recipient_sealed,
                        int(row.consent),
                        _stamp(row.due_at),
                        "skipped" if row.skipped else "due",
                        row.skipped,
                        _stamp(now),
                        _stamp(now),
                    )
                marks = ", ".join(["(" + ", ".join("?" * 13) + ")"] * len(chunk))
                went_in = self._exec(
                    db,
                    f"INSERT INTO reminder_ledger ({columns}) VALUES {marks} "
                    "ON CONFLICT (person, week, kind) DO NOTHING RETURNING person, week, kind",
                    values,
                ).fetchall()
                keys = {(str(a), str(b), str(c)) for a, b, c in went_in}
                added += [row for row in chunk if (row.person, row.week, row.kind) in keys]
        return added

    def planned(self, *, weeks: Iterable[str], kind: Kind = "weekly") -> set[tuple[str, str]]:
        """(person, week) pairs already in the ledger for these weeks."""
        weeks = sorted(set(weeks))
        if not weeks:
            return set()
        marks = ",".join("?" for _ in weeks)
        rows = self._read(
            f"SELECT person, week FROM reminder_ledger WHERE kind = ? AND week IN ({marks})",
            (kind, *weeks),
        )
        return {(row["person"], row["week"]) for row in rows}

    def ever_sent(self, *, person: str, channel: str) -> bool:
        """Whether this person has had a reminder for this team before (then no consent text)."""
        rows = self._read(
            "SELECT 1 FROM reminder_ledger WHERE person = ? AND channel = ? AND state = 'sent' "
            "LIMIT 1",
            (person, self._key(channel)),
        )
        return bool(rows)

    def sent_before(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (person, channel) pairs have had a reminder before: `ever_sent` for
        many people at once (a few statements rather than one each)."""
        by_key = {(person, self._key(channel)): (person, channel) for person, channel in pairs}
        people = sorted({person for person, _ in by_key})
        found: set[tuple[str, str]] = set()
        for start in range(0, len(people), READ_AT_ONCE):
            chunk = people[start : start + READ_AT_ONCE]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                "SELECT DISTINCT person, channel FROM reminder_ledger WHERE state = 'sent' "
                f"AND person IN ({marks})",
                chunk,
            )
            found |= {
                by_key[key]
                for key in ((row["person"], row["channel"]) for row in rows)
                if key in by_key
            }
        return found

    # ------------------------------------------------------------------ sending

    def claim(self, *, now: dt.datetime, lease: dt.timedelta) -> LedgerEntry | None:
        """Take the next row whose time has come, or whose claimant's lease ran out."""
        taken = self.claim_many(now=now, lease=lease, limit=1)
        return taken[0] if taken else None

    def claim_many(self, *, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[LedgerEntry]:
        """Take up to `limit` rows whose time has come (or whose claimant's lease ran out), in
        one statement, under one claim token and lease; oldest due first."""
        condition = (
            "due_at <= :now AND ((state = 'due' AND COALESCE(retry_at, '') <= :now) "
            "OR (state = 'claimed' AND lease_until <= :now))"
        )
        # SQLite: the store's BEGIN IMMEDIATE makes this one writer at a time. PostgreSQL: the
        # rows are locked by the SELECT and others skip them (FOR UPDATE SKIP LOCKED), so many
        # senders claim different rows at once; the outer condition is checked again.
        # The picked ids are materialised first: PostgreSQL may otherwise run a LIMIT ... SKIP
        # LOCKED subquery more than once and take more rows than asked for.
        rows = self._write(
            f"WITH picked AS MATERIALIZED (SELECT id FROM reminder_ledger WHERE {condition} "
            f"ORDER BY due_at, id LIMIT :limit {self._dialect.skip_locked}) "
            "UPDATE reminder_ledger SET state = 'claimed', claim_token = :token, "
            "lease_until = :lease, attempts = attempts + 1, updated_at = :now "
            f"WHERE id IN (SELECT id FROM picked) AND {condition} "
            "RETURNING *",
            {
                "now": _stamp(now),
                "lease": _stamp(now + lease),
                "token": secrets.token_hex(16),
                "limit": limit,
            },
        )
        entries = [_entry(row, self._channel(row)) for row in rows]
        return sorted(entries, key=lambda entry: (entry.due_at, entry.id))

    def renew(self, entry: LedgerEntry, *, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Extend our lease just before posting. False: the row is no longer ours to send."""
        changes = "lease_until = :lease"
        return self._move(entry, now, changes, "AND lease_until > :now", lease=_stamp(now + lease))

    def mark_sent(self, entry: LedgerEntry, *, ts: str, now: dt.datetime) -> bool:
        """Record the message ts. The DM channel is not kept: it would identify the person."""
        return self._move(entry, now, "state = 'sent', sent_ts = :ts, lease_until = NULL", ts=ts)

    def mark_all_sent(self, posted: Iterable[tuple[LedgerEntry, str]], *, now: dt.datetime) -> int:
        """`mark_sent` for many rows (entry, ts) in one statement; how many were still ours."""
        done = list(posted)
        if not done:
            return 0
        cases = " ".join("WHEN ? THEN ?" for _ in done)
        marks = ",".join("?" * len(done))
        params: list[Any] = [value for entry, ts in done for value in (entry.id, ts)]
        params += [_stamp(now), *(entry.id for entry, _ in done)]
        # Each row's own claim token: rows from one claim share it, but a caller may mix.
        held = " OR ".join("(id = ? AND claim_token = ?)" for _ in done)
        params += [value for entry, _ in done for value in (entry.id, entry.claim_token)]
        rows = self._write(
            f"UPDATE reminder_ledger SET state = 'sent', sent_ts = CASE id {cases} END, "
            "lease_until = NULL, updated_at = ? "
            f"WHERE id IN ({marks}) AND state = 'claimed' AND ({held}) RETURNING id",
            params,
        )
        return len(rows)

    def renew_all(
        self, entries: Iterable[LedgerEntry], *, now: dt.datetime, lease: dt.timedelta
    ) -> set[str]:
        """`renew` for many rows in one statement; returns the ids still ours."""
        held = list(entries)
        if not held:
            return set()
        pairs = " OR ".join("(id = ? AND claim_token = ?)" for _ in held)
        params: list[Any] = [_stamp(now + lease), _stamp(now), _stamp(now)]
        params += [value for entry in held for value in (entry.id, entry.claim_token)]
        rows = self._write(
            "UPDATE reminder_ledger SET lease_until = ?, updated_at = ? "
            f"WHERE state = 'claimed' AND lease_until > ? AND ({pairs}) RETURNING id",
            params,
        )
        return {row["id"] for row in rows}

    def mark_skipped(self, entry: LedgerEntry, *, reason: SkipReason, now: dt.datetime) -> bool:
        changes = "state = 'skipped', reason = :reason, lease_until = NULL"
        return self._move(entry, now, changes, reason=reason)

    def release(self, entry: LedgerEntry, *, retry_at: dt.datetime, now: dt.datetime) -> bool:
        """Give the row back to be tried again later (Slack was unavailable)."""
        changes = "state = 'due', claim_token = NULL, lease_until = NULL, retry_at = :retry"
        return self._move(entry, now, changes, retry=_stamp(retry_at))

    def give_back(self, entry: LedgerEntry, *, now: dt.datetime) -> bool:
        """Hand back a row we have certainly not posted (we are stopping): as if never claimed."""
        changes = "state = 'due', claim_token = NULL, lease_until = NULL"
        greatest = self._dialect.greatest
        return self._move(entry, now, changes + f", attempts = {greatest}(attempts - 1, 0)")

    def _move(
        self, entry: LedgerEntry, now: dt.datetime, changes: str, also: str = "", **values: Any
    ) -> bool:
        """One conditional UPDATE: only the holder of the current claim moves a claimed row."""
        rows = self._write(
            f"UPDATE reminder_ledger SET {changes}, updated_at = :now "
            f"WHERE id = :id AND claim_token = :token AND state = 'claimed' {also} RETURNING id",
            self._held(entry, now) | values,
        )
        return bool(rows)

    @staticmethod
    def _held(entry: LedgerEntry, now: dt.datetime) -> dict[str, Any]:
        return {"id": entry.id, "token": entry.claim_token, "now": _stamp(now)}

    # ------------------------------------------------------------------ reading

    def get(self, entry_id: str) -> LedgerEntry | None:
        rows = self._read("SELECT * FROM reminder_ledger WHERE id = ?", (entry_id,))
        return _entry(rows[0], self._channel(rows[0])) if rows else None

    def reminded(self, *, channel: str, week: str) -> dict[str, dt.datetime]:
        """Who was sent this team's weekly reminder that week (pseudonym: when it was due)."""
        rows = self._read(
            "SELECT person, due_at FROM reminder_ledger WHERE channel = ? AND week = ? "
            "AND kind = 'weekly' AND state = 'sent'",
            (self._key(channel), week),
        )
        return {row["person"]: parse(row["due_at"]) for row in rows}

    def purge(self, *, older_than: dt.datetime) -> int:
        """Forget finished rows (sent or skipped) due before `older_than` (retention)."""
        rows = self._write(
            "DELETE FROM reminder_ledger WHERE state IN ('sent', 'skipped') AND due_at < ? "
            "RETURNING id",
            (_stamp(older_than),),
        )
        return len(rows)

    def channels_of(self, person: str) -> set[str]:
        """The teams a person has been reminded for (for their App Home)."""
        rows = self._read(
            "SELECT channel, channel_sealed FROM reminder_ledger WHERE person = ?", (person,)
        )
        return {self._channel(row) for row in rows}

    def next_wake(self) -> dt.datetime | None:
        """When a row next becomes claimable (its due time, retry time, or lease end)."""
        rows = self._read(
            f"SELECT MIN(CASE WHEN state = 'due' THEN {self._dialect.greatest}(due_at, "
            "COALESCE(retry_at, '')) "
            "ELSE lease_until END) AS wake FROM reminder_ledger "
            "WHERE state IN ('due', 'claimed')"
        )
        return _moment(rows[0]["wake"])

    def counts(self, *, week: str | None = None) -> dict[str, int]:
        """How many rows are in each state (all weeks, or one): for logs and status."""
        where, params = ("WHERE week = ?", (week,)) if week else ("", ())
        rows = self._read(
            f"SELECT state, COUNT(*) AS n FROM reminder_ledger {where} GROUP BY state", params
        )
        return {row["state"]: row["n"] for row in rows}

    def waiting(self, *, until: dt.datetime) -> list[LedgerEntry]:
        rows = self._read(
            "SELECT * FROM reminder_ledger WHERE state IN ('due', 'claimed') AND due_at <= ? "
            "ORDER BY due_at",
            (_stamp(until),),
        )
        return [_entry(row, self._channel(row)) for row in rows]
