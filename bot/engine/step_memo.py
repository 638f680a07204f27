"""One step, one reading of the session: the store as the engine sees it while a step runs.

A session is sealed, so each `load_session` decrypts it. Within a step (`Remembering.step`),
the session is read from the store once and then kept as the step changes it (saved, dropped,
finished), so the engine's several looks at it and the transport's question afterwards (what
was the session before the step, did the step end the flow?) cost nothing more. Outside a step,
every call goes straight to the store. The memory is per thread and per person, and ends with
the step: a step runs inside one writing transaction under the person's lock, so nothing else
can change the session meanwhile.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.engine.people import Person
from bot.engine.reflections import Event, NextStep, Reflection, ReflectionStore, StoredReflection
from bot.engine.sessions import Session

_UNREAD = object()


@dataclass
class Step:
    """What a step did to the person's session: as it was before, and as it is now."""

    person: Person
    _before: object = _UNREAD
    _now: object = _UNREAD
    _store: ReflectionStore | None = field(default=None, repr=False)

    @property
    def before(self) -> Session | None:
        """The session when the step began (read now, if the step never looked)."""
        if self._before is _UNREAD:
            assert self._store is not None
            self._before = self._now = self._store.load_session(self.person)
        return self._before  # type: ignore[return-value]

    @property
    def after(self) -> Session | None:
        """The session as the step left it."""
        if self._now is _UNREAD:
            return self.before
        return self._now  # type: ignore[return-value]

    @property
    def ended(self) -> str | None:
        """The flow whose session the step ended (finished, stopped, replaced), if it did."""
        before = self.before
        return before.flow_id if before is not None and self.after is None else None


class Remembering:
    """A ReflectionStore that remembers the session of the person whose step is running."""

    def __init__(self, store: ReflectionStore) -> None:
        self.store = store
        self._local = threading.local()

    @contextmanager
    def step(self, person: Person) -> Iterator[Step]:
        """Remember `person`'s session until the step ends (steps do not nest)."""
        current = Step(person, _store=self.store)
        self._local.step = current
        try:
            yield current
        finally:
            self._local.step = None

    def _step_of(self, person: Person) -> Step | None:
        current: Step | None = getattr(self._local, "step", None)
        return current if current is not None and current.person.id == person.id else None

    # ------------------------------------------------------------------ sessions

    def load_session(self, person: Person) -> Session | None:
        current = self._step_of(person)
        if current is None:
            return self.store.load_session(person)
        if current._now is _UNREAD:
            current._before = current._now = self.store.load_session(person)
        return current._now  # type: ignore[return-value]

    def save_session(self, person: Person, session: Session) -> None:
        current = self._step_of(person)
        if current is not None:
            _ = current.before  # what it was, before it changes
        self.store.save_session(person, session)
        if current is not None:
            current._now = session

    def drop_session(self, person: Person) -> None:
        current = self._step_of(person)
        if current is not None:
            _ = current.before
        self.store.drop_session(person)
        if current is not None:
            current._now = None

    def finish(self, person: Person, reflection: Reflection) -> str:
        current = self._step_of(person)
        if current is not None:
            _ = current.before
        reflection_id = self.store.finish(person, reflection)
        if current is not None:
            current._now = None
        return reflection_id

    def forget(self, person: Person) -> int:
        current = self._step_of(person)
        if current is not None:
            _ = current.before
        gone = self.store.forget(person)
        if current is not None:
            current._now = None
        return gone

    # ------------------------------------------------------------------ the rest, as is

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        return self.store.reflections(person, limit=limit)

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        self.store.record(person, event, at=at, flow_id=flow_id)

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        return self.store.last_event(person, event)

    def open_next_step(self, person: Person) -> NextStep | None:
        return self.store.open_next_step(person)

    def follow_up_wanted(self, person: Person) -> bool:
        return self.store.follow_up_wanted(person)

    def want_follow_up(self, person: Person, wanted: bool) -> None:
        self.store.want_follow_up(person, wanted)
