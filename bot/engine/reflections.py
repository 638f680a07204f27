"""What a finished reflection is, and the store the engine keeps sessions and reflections in.

`ReflectionStore` is the engine's only way to persist anything. The sqlite implementation lives
in `bot.store`; tests use an in-memory fake (tests/fakes.py). Implementations must:

- never keep `Person.id` in clear (turn it into a pseudonym at the boundary);
- encrypt free text and summaries at rest;
- make `finish` atomic: the reflection is saved and the session dropped together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.engine.people import Person
from bot.engine.sessions import Session

StepKind = Literal["text", "choice", "multi", "scale", "info"]

#: Things that happen, recorded without any content. Used by the supervisor nudge policy and,
#: except the safety events (`signpost_shown`, `gentle_signpost_shown`, `check_in_asked`,
#: `check_in_answered`), by the organisation's aggregates.
Event = Literal[
    "signpost_shown",
    "gentle_signpost_shown",
    "check_in_asked",
    "check_in_answered",
    "nudge_shown",
    "nudge_firm_shown",
    "nudge_followed",
    "nudge_dismissed",
]


@dataclass(frozen=True)
class Answer:
    """One kept answer. `value` is text, an option value, a list of option values, or a scale
    number. Only answers whose step says `store: yes` become Answers."""

    step_id: str
    kind: StepKind
    value: Any


@dataclass(frozen=True)
class Reflection:
    """A finished flow, as it is to be kept."""

    flow_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    summary: str
    answers: tuple[Answer, ...] = ()


@dataclass(frozen=True)
class StoredReflection:
    """A reflection read back for its owner."""

    id: str
    flow_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    summary: str
    answers: tuple[Answer, ...] = field(default_factory=tuple)


class ReflectionStore(Protocol):
    """Sessions in progress, finished reflections, and content-free events, per person."""

    def load_session(self, person: Person) -> Session | None: ...

    def save_session(self, person: Person, session: Session) -> None: ...

    def drop_session(self, person: Person) -> None: ...

    def finish(self, person: Person, reflection: Reflection) -> str:
        """Keep the reflection and drop the session, in one transaction. Returns its id."""
        ...

    def reflections(self, person: Person, *, limit: int | None = 20) -> list[StoredReflection]:
        """The person's own reflections, newest first."""
        ...

    def record(
        self, person: Person, event: Event, *, at: dt.datetime, flow_id: str | None = None
    ) -> None: ...

    def last_event(self, person: Person, event: Event) -> dt.datetime | None:
        """The day (midnight UTC) the event last happened to the person: events keep a date,
        never a time."""
        ...

    def forget(self, person: Person) -> int:
        """Erase everything kept about the person; returns how many reflections went."""
        ...
