"""The outbox: what a step will say, written in the same transaction as the step, posted after.

A transport hands `add` the calls it will make for a step (opaque JSON, e.g. the messages to
post), inside the request's writing transaction: they commit with the answer they follow, or
not at all. After the ack a sender claims them one at a time, in order per person, and deletes
each once done (`delivered`). A sender that dies leaves its row leased; when the lease runs out,
any process claims it again. A row claimed more than once (`in_doubt`) may already have reached
Slack, so the sender looks for its delivery key before making the call again.

Per person, only the oldest row can be claimed, and only when nobody holds it: so one person's
replies go out in the order the steps were taken, whichever process took them and whichever
delivers them. On PostgreSQL the claim locks the row with FOR UPDATE SKIP LOCKED (two senders
never wait on each other, nor both win); on SQLite the claim runs in the store's BEGIN
IMMEDIATE transaction. Rows are sealed under the person's data key with the row's identity as
associated data (as reflections are), erased by `forget`, and deleted once delivered.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.engine.people import Person
from bot.store.errors import UnreadableError
from bot.store.privacy import Keyring, row_aad, seal, unseal
from bot.store.times import parse, stamp

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]

#: How long a claim holds a row before another sender may take it (the sender died).
LEASE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class OutboxEntry:
    """One claimed row: the call to make, its delivery key, and the claim."""

    id: int
    pseudonym: str
    delivery: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int
    claim_token: str

    @property
    def in_doubt(self) -> bool:
        """Claimed before: the call may have been made already."""
        return self.attempts > 1

    def __repr__(self) -> str:  # never show what is to be said
        return f"OutboxEntry({self.id}, attempts={self.attempts})"


class SealingStore(Protocol):
    """What the outbox needs from a store (SqliteStore and PostgresStore have it)."""

    keyring: Keyring

    def writing(self) -> AbstractContextManager[Any]: ...

    def reading(self) -> AbstractContextManager[Any]: ...

    def pseudonym(self, person: Person) -> str: ...

    def data_key(
        self, who: str, *, create: bool = False, person: Person | None = None
    ) -> bytes | None: ...


class Outbox:
    """The outbox table of one store, in that store's SQL dialect."""

    def __init__(self, store: SealingStore, *, postgres: bool) -> None:
        self.store = store
        self.postgres = postgres
        self._time: Callable[[dt.datetime], Any] = _utc if postgres else stamp
        self._read_time: Callable[[Any], dt.datetime] = _utc if postgres else parse

    # ------------------------------------------------------------------ writing a step

    def take_turn(self, person: Person) -> None:
        """Call first in a request's writing transaction: from here to its commit, no other
        request about this person runs, in any process. On PostgreSQL this takes the person's
        advisory lock (which the store's own writes take too, later); on SQLite the writing
        transaction (BEGIN IMMEDIATE) already holds the database's one write lock."""
        if not self.postgres:
            return
        who = self.store.pseudonym(person)
        with self.store.writing() as conn:
            self.store.lock_person(conn, who)  # type: ignore[attr-defined]

    def add(self, person: Person, payloads: Sequence[Payload], *, now: dt.datetime) -> list[str]:
        """Queue these calls for the person, in order; returns their delivery keys. Call inside
        the request's writing transaction (on PostgreSQL this takes the person's lock, if the
        step has not already)."""
        if not payloads:
            return []
        who = self.store.pseudonym(person)
        keys: list[str] = []
        with self.store.writing() as conn:
            key = self.store.data_key(who, create=True, person=person)
            assert key is not None
            for payload in payloads:
                delivery = secrets.token_hex(12)
                sealed = seal(key, _encode(payload), aad=_aad(delivery, who))
                self._run(
                    conn,
                    "INSERT INTO outbox (pseudonym, delivery, sealed, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    [who, delivery, sealed, self._time(now)],
                )
                keys.append(delivery)
        return keys

    def reseal(self, person: Person, deliveries: Sequence[str], payloads: Sequence[Payload]) -> int:
        """Say queued calls otherwise, in their places (e.g. with the person's name, learnt
        after the ack): each row of `deliveries` not yet claimed takes the payload at the same
        position. How many rows changed; a row already taken keeps what it had."""
        who = self.store.pseudonym(person)
        changed = 0
        with self.store.writing() as conn:
            key = self.store.data_key(who)
            if key is None:
                return 0
            for delivery, payload in zip(deliveries, payloads, strict=True):
                sealed = seal(key, _encode(payload), aad=_aad(delivery, who))
                cursor = self._run(
                    conn,
                    "UPDATE outbox SET sealed = ? WHERE pseudonym = ? AND delivery = ?"
                    " AND claim_token IS NULL",
                    [sealed, who, delivery],
                )
                changed += cursor.rowcount or 0
        return changed

    # ------------------------------------------------------------------ delivering

    def claim(
        self, *, now: dt.datetime, person: Person | None = None, lease: dt.timedelta = LEASE
    ) -> OutboxEntry | None:
        """Lease the next row to deliver: the person's oldest (or, with no person, the oldest
        of anyone's), if nobody holds it. None: nothing to do now (or someone else is at it)."""
        head = (
            "(o.lease_until IS NULL OR o.lease_until <= ?) AND NOT EXISTS (SELECT 1 FROM outbox e"
            " WHERE e.pseudonym = o.pseudonym AND e.id < o.id)"
        )
        params: list[Any] = [self._time(now)]
        if person is not None:
            head += " AND o.pseudonym = ?"
            params.append(self.store.pseudonym(person))
        select = f"SELECT o.id FROM outbox o WHERE {head} ORDER BY o.id LIMIT 1"
        if self.postgres:
            select += " FOR UPDATE SKIP LOCKED"
        token = secrets.token_hex(16)
        with self.store.writing() as conn:
            found = self._run(conn, select, params).fetchone()
            if found is None:
                return None
            row = self._run(
                conn,
                "UPDATE outbox SET lease_until = ?, claim_token = ?, attempts = attempts + 1"
                " WHERE id = ? RETURNING id, pseudonym, delivery, sealed, created_at, attempts",
                [self._time(now + lease), token, found[0]],
            ).fetchone()
        assert row is not None
        return self._entry(row, token)

    def delivered(self, entry: OutboxEntry) -> bool:
        """Done with this row (posted, found already posted, or refused for good): delete it.
        False if the claim was lost meanwhile (another sender has it now)."""
        with self.store.writing() as conn:
            cursor = self._run(
                conn,
                "DELETE FROM outbox WHERE id = ? AND claim_token = ?",
                [entry.id, entry.claim_token],
            )
            return bool(cursor.rowcount)

    def release(self, entry: OutboxEntry, *, retry_at: dt.datetime) -> bool:
        """Give the row back, to be claimed again from `retry_at` (Slack was unavailable). The
        person's later rows wait behind it."""
        with self.store.writing() as conn:
            cursor = self._run(
                conn,
                "UPDATE outbox SET lease_until = ?, claim_token = NULL"
                " WHERE id = ? AND claim_token = ?",
                [self._time(retry_at), entry.id, entry.claim_token],
            )
            return bool(cursor.rowcount)

    def pending(self, person: Person | None = None) -> int:
        """How many rows wait (the person's, or everyone's): a read, no lock taken."""
        sql, params = "SELECT count(*) FROM outbox", []
        if person is not None:
            sql += " WHERE pseudonym = ?"
            params.append(self.store.pseudonym(person))
        with self.store.reading() as conn:
            row = self._run(conn, sql, params).fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ rows

    def _entry(self, row: Sequence[Any], token: str) -> OutboxEntry:
        row_id, who, delivery, sealed, created_at, attempts = row
        payload: dict[str, Any] = {}
        try:
            key = self.store.data_key(who)
            if key is None:
                raise UnreadableError("no data key")
            payload = json.loads(unseal(key, bytes(sealed), aad=_aad(delivery, who)))
        except (UnreadableError, ValueError) as error:
            # The person was erased meanwhile, or the row is damaged: nothing to say.
            log.warning("an outbox row could not be read (%s); dropped", type(error).__name__)
        return OutboxEntry(
            id=int(row_id),
            pseudonym=who,
            delivery=delivery,
            payload=payload,
            created_at=self._read_time(created_at),
            attempts=int(attempts),
            claim_token=token,
        )

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        return conn.execute(sql.replace("?", "%s") if self.postgres else sql, list(params))


def outbox_of(store: SealingStore) -> Outbox:
    """The outbox kept in this store's database."""
    from bot.store.sqlite import SqliteStore

    return Outbox(store, postgres=not isinstance(store, SqliteStore))


def _aad(delivery: str, who: str) -> bytes:
    return row_aad("outbox", delivery, who)


def _encode(payload: Payload) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _utc(at: Any) -> dt.datetime:
    if isinstance(at, str):
        at = parse(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
