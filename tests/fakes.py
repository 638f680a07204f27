"""Fakes for our own ports: an in-memory ReflectionStore that behaves like the real one, and
the one fake clock (time moves only when told to, or when someone sleeps)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from dataclasses import dataclass, field

from bot.engine.people import Person
from bot.engine.reflections import (
    SAFETY_EVENTS,
    Event,
    FollowUpState,
    NextStep,
    Reflection,
    StoredReflection,
)
from bot.engine.sessions import Session


@dataclass
class MemoryStore:
    sessions: dict[str, str] = field(default_factory=dict)
    kept: dict[str, list[StoredReflection]] = field(default_factory=dict)
    events: list[tuple[str, Event, dt.datetime, str | None]] = field(default_factory=list)
    follow_ups: dict[str, FollowUpState] = field(default_factory=dict)
    next_steps: dict[str, str] = field(default_factory=dict)
    follow_up_off: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def load_session(self, person: Person) -> Session | None:
        raw = self.sessions.get(person.id)
        return Session.from_json(raw) if raw else None

    def save_session(self, person: Person, session: Session) -> None:
        self.sessions[person.id] = session.to_json()

    def drop_session(self, person: Person) -> None:
        self.sessions.pop(person.id, None)

    def finish(self, person: Person, reflection: Reflection) -> str:
        reflection_id = f"r{next(self._ids)}"
        stored = StoredReflection(
            id=reflection_id,
            flow_id=reflection.flow_id,
            started_at=reflection.started_at,
            finished_at=reflection.finished_at,
            summary=reflection.summary,
            answers=reflection.answers,
        )
        self.kept.setdefault(person.id, []).insert(0, stored)
        written = {a.step_id for a in reflection.answers if a.kind == "text" and a.value}
        if reflection.next_step in written:
            self.next_steps[reflection_id] = reflection.next_step
            self.follow_ups[reflection_id] = "open"
        settled = reflection.follow_up
        if settled is not None and settled.reflection_id in self.follow_ups:
            mine = {r.id for r in self.kept.get(person.id, [])}
            if settled.reflection_id in mine:
                self.follow_ups[settled.reflection_id] = settled.state
        self.sessions.pop(person.id, None)
        return reflection_id

    def open_next_step(self, person: Person) -> NextStep | None:
        for reflection in self.kept.get(person.id, []):
            state = self.follow_ups.get(reflection.id)
            if state is None:
                continue
            if state not in ("open", "carried"):
                return None
            step_id = self.next_steps[reflection.id]
            text = next(a.value for a in reflection.answers if a.step_id == step_id)
            return NextStep(reflection.id, reflection.flow_id, reflection.finished_at, text, state)
        return None

    def follow_up_wanted(self, person: Person) -> bool:
        return person.id not in self.follow_up_off

    def want_follow_up(self, person: Person, wanted: bool) -> None:
        if wanted:
            self.follow_up_off.discard(person.id)
        else:
            self.follow_up_off.add(person.id)

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        mine = self.kept.get(person.id, [])
        return list(mine if limit is None else mine[:limit])

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None:
        if event in SAFETY_EVENTS:  # their moment, which a real store keeps sealed
            self.events.append((person.id, event, at, flow_id))
            return
        day = dt.datetime.combine(at.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
        self.events.append((person.id, event, day, flow_id))  # a day, never a time

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        times = [at for who, kind, at, _ in self.events if who == person.id and kind == event]
        return max(times) if times else None

    def forget(self, person: Person) -> int:
        gone = len(self.kept.pop(person.id, []))
        self.sessions.pop(person.id, None)
        self.events = [e for e in self.events if e[0] != person.id]
        self.follow_up_off.discard(person.id)
        return gone


class FakeClock:
    """Time that moves only when told to, or when someone sleeps."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += dt.timedelta(seconds=seconds)

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self.now = max(self.now, moment)
