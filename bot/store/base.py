"""`RowStore`: what both stores (bot.store.sqlite, bot.store.postgres) do the same way, written
once over the few things each does its own way.

Each store provides its transactions: `reading()` and `writing()`; `_change(who)`, a writing
transaction for a change about one person (on PostgreSQL under the person's lock);
`_reading_as(who)` and `_writing_as(who)`, the same with the person's data key (made first,
when writing, if they have none); `_keys_of`, the data keys of several people; and `_claim`,
keeping a Slack id once. The SQL is bot.store.statements', the row logic bot.store.rows'.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Self

from bot.engine.people import Person
from bot.engine.reflections import Event, NextStep, Reflection, StoredReflection
from bot.engine.sessions import Session
from bot.store import rows
from bot.store import statements as sql
from bot.store.privacy import Keyring
from bot.store.rows import SEEN_EVENTS_FOR, SEEN_REQUESTS_FOR
from bot.store.stats import Activity


class RowStore:
    """The parts of the engine's ReflectionStore both stores share."""

    #: The store's SQL dialect (bot.store.statements).
    SQL: ClassVar[sql.Dialect]
    keyring: Keyring
    _clock: Callable[[], dt.datetime]

    # ------------------------------------------------------------------ what each store provides

    def reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def writing(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _change(self, who: str) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _reading_as(self, who: str) -> AbstractContextManager[tuple[Any, bytes | None]]:
        raise NotImplementedError

    def _writing_as(
        self, who: str, *, org: str | None = None
    ) -> AbstractContextManager[tuple[Any, bytes]]:
        """`org`: the organisation key to keep a new data key under (a digest, `_org`)."""
        raise NotImplementedError

    def _keys_of(self, conn: Any, people: set[str]) -> Mapping[str, bytes | None]:
        raise NotImplementedError

    def _claim(self, table: str, digest: str, *, at: dt.datetime, kept_for: dt.timedelta) -> bool:
        raise NotImplementedError

    # ------------------------------------------------------------------ identities

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _org(self, person: Person) -> str | None:
        """The person's organisation as the keys name it (bot.store.orgs), if any."""
        return self.keyring.org(person.org) if person.org else None

    def pseudonym(self, person: Person) -> str:
        return self.keyring.pseudonym(person.id)

    # ------------------------------------------------------------------ sessions

    def save_session(self, person: Person, session: Session) -> None:
        who = self.pseudonym(person)
        with self._writing_as(who, org=self._org(person)) as (conn, key):
            state = rows.sealed_session(key, who, session)
            at = self._clock()
            sql.save_session(self.SQL, conn, who=who, flow_id=session.flow_id, state=state, at=at)

    def drop_session(self, person: Person) -> None:
        who = self.pseudonym(person)
        with self._change(who) as conn:
            sql.drop_session(self.SQL, conn, who=who)

    # ------------------------------------------------------------------ reflections

    def finish(self, person: Person, reflection: Reflection) -> str:
        """Keep the reflection (redacted, sealed) and drop the session, in one transaction.
        Redaction, the costly part, is done before the transaction (and any lock) starts."""
        who = self.pseudonym(person)
        reflection_id = secrets.token_hex(8)
        kept = rows.redacted_reflection(reflection)
        with self._writing_as(who, org=self._org(person)) as (conn, key):
            sql.keep_reflection(
                self.SQL,
                conn,
                reflection=reflection,
                reflection_id=reflection_id,
                who=who,
                key=key,
                kept=kept,
            )
        return reflection_id

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        """The person's own reflections, newest first (as stored: redacted)."""
        who = self.pseudonym(person)
        with self._reading_as(who) as (conn, key):
            found, answers = sql.reflection_rows(self.SQL, conn, who=who, limit=limit)
        return rows.stored_reflections(key, who, found, answers)

    def open_next_step(self, person: Person) -> NextStep | None:
        """The next step in the person's latest reflection that has one, unless settled."""
        who = self.pseudonym(person)
        with self._reading_as(who) as (conn, key):
            found = sql.next_step_rows(self.SQL, conn, who=who)
        return None if found is None else rows.next_step(key, who, *found)

    def follow_up_wanted(self, person: Person) -> bool:
        with self.reading() as conn:
            return sql.follow_up_wanted(self.SQL, conn, who=self.pseudonym(person))

    def want_follow_up(self, person: Person, wanted: bool) -> None:
        who = self.pseudonym(person)
        with self._change(who) as conn:
            sql.want_follow_up(self.SQL, conn, who=who, wanted=wanted)

    def export(self, person: Person) -> list[StoredReflection]:
        """Everything kept for the person, newest first: for `reflect data export`."""
        return self.reflections(person, limit=None)

    # ------------------------------------------------------------------ events

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        """Note that something happened, with no content and on which day (never the time).
        Every event is sealed under the person's key: the database alone says only that
        something happened to a pseudonym on a day, never what (crisis support, a firm
        suggestion, a click; a safety event keeps its moment inside the seal). An answer to a
        supervisor suggestion is attributed to the flow whose end showed the person's last
        one, and kept once a day."""
        who = self.pseudonym(person)
        with self._writing_as(who, org=self._org(person)) as (conn, key):
            sql.record_event(self.SQL, conn, who=who, key=key, event=event, flow_id=flow_id, at=at)

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        """When the event last happened to the person, if it did: the moment for a safety
        event (kept inside its seal), the day (midnight UTC) for any other."""
        who = self.pseudonym(person)
        with self._reading_as(who) as (conn, key):
            mine = [] if key is None else sql.events_of(self.SQL, conn, key=key, who=who)
        return next((e.at for e in mine if e.event == event), None)

    # ------------------------------------------------------------------ Slack ids seen

    def claim_event(self, event_id: str, *, at: dt.datetime) -> bool:
        """True the first time a Slack event id is seen (by any process sharing the
        database), False for a retry. Ids are kept as keyed digests for a day."""
        digest = self.keyring.digest(event_id, purpose="slack-event")
        return self._claim("seen_events", digest, at=at, kept_for=SEEN_EVENTS_FOR)

    def claim_request(self, signature: str, *, at: dt.datetime) -> bool:
        """True the first time a signed Slack request (its signature, which covers the
        timestamp and the body) is seen, False for a replay. Kept as keyed digests for the
        signature window, in the database, so every process sharing it refuses the replay."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        return self._claim("seen_requests", digest, at=at, kept_for=SEEN_REQUESTS_FOR)

    def release_request(self, signature: str) -> None:
        """Forget a claimed request whose handling failed, so that it may be sent again."""
        digest = self.keyring.digest(signature, purpose="slack-request")
        with self.writing() as conn:
            sql.release(self.SQL, conn, table="seen_requests", digest=digest)

    # ------------------------------------------------------------------ aggregates

    def people_who_reflected(
        self, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
    ) -> set[str]:
        """Pseudonyms of people who finished `flow_id` (any flow if None) in [since, until)."""
        with self.reading() as conn:
            return sql.people_who_reflected(
                self.SQL, conn, flow_id=flow_id, since=since, until=until
            )

    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
        """What aggregates are made of, in [since, until): reflections, scale answers (read
        with each person's key) and supervisor suggestion events. Never free text, never
        choices, never crisis support, never firm suggestions (those are sealed). Scale answers
        are given the one way round whatever their scale: higher is heavier (an answer from a
        scale whose heavy end is its minimum is turned round)."""
        with self.reading() as conn:
            reflections, scale_rows, event_rows = sql.activity_rows(
                self.SQL, conn, since=since, until=until
            )
            people = {row[5] for row in scale_rows} | {row[3] for row in event_rows}
            keys = self._keys_of(conn, people)
        scales, events = rows.activity_facts(scale_rows, event_rows, keys)
        return Activity(reflections=reflections, scales=scales, events=events)
