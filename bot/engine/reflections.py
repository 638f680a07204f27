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

StepKind = Literal["text", "choice", "multi", "scale", "info", "follow_up"]

#: What became of a next step the leader was asked about: done, carried on (asked about again
#: next time), or dropped. "open" is a next step not yet asked about.
FollowUpState = Literal["open", "done", "carried", "dropped"]

#: Things that happen, recorded without any content. Used by the supervisor suggestion
#: policy and, except the safety events (`SAFETY_EVENTS`), by the organisation's aggregates.
#: (The stored names of the suggestion's events keep their first spelling, "nudge_...", so
#: history stays readable.)
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

#: What the safety screen led to: a card shown or the check-in question asked or answered.
#: The conversation needs their moment, not just their day (is the check-in question still
#: waiting? was the gentle card shown in this conversation?), so a store keeps it, but only
#: where the person's own key is needed to read it; every other event keeps only its day.
SAFETY_EVENTS: frozenset[Event] = frozenset(
    {"signpost_shown", "gentle_signpost_shown", "check_in_asked", "check_in_answered"}
)


@dataclass(frozen=True)
class ScaleMark:
    """How a scale answer reads: its bounds and which end is heavy. Kept with every scale
    answer, so that a score is never read the wrong way round, whatever the flow says today
    (answers kept before scales said so are marked as the old scales ran: 1..5, heavy at 1)."""

    min: int
    max: int
    heavy: Literal["min", "max"]

    def heaviness(self, value: int) -> float:
        """0 at the light end, 1 at the heavy end."""
        if self.max <= self.min:
            return 0.0
        share = (value - self.min) / (self.max - self.min)
        return share if self.heavy == "max" else 1 - share


#: How scale answers kept before scales said which end is heavy ran.
OLD_SCALE = ScaleMark(min=1, max=5, heavy="min")


@dataclass(frozen=True)
class Answer:
    """One kept answer. `value` is text, an option value, a list of option values, or a scale
    number (with `scale` saying how to read it). Only answers whose step says `store: yes`
    become Answers."""

    step_id: str
    kind: StepKind
    value: Any
    scale: ScaleMark | None = None


@dataclass(frozen=True)
class FollowUp:
    """The leader's word on an earlier next step, given in this reflection."""

    reflection_id: str
    state: FollowUpState


@dataclass(frozen=True)
class NextStep:
    """A next step the leader wrote at the end of a reflection and has not yet said is done
    or dropped: what to ask about next time, in their own words."""

    reflection_id: str
    flow_id: str
    finished_at: dt.datetime
    text: str
    state: FollowUpState = "open"


@dataclass(frozen=True)
class Reflection:
    """A finished flow, as it is to be kept."""

    flow_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    summary: str
    answers: tuple[Answer, ...] = ()
    #: The step whose answer is the leader's next step (asked about next time), if any.
    next_step: str | None = None
    #: What the leader said of an earlier next step during this reflection, if anything.
    follow_up: FollowUp | None = None


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
        """When the event last happened to the person. For `SAFETY_EVENTS` the moment (which
        only the person's key can read); for every other event the day (midnight UTC): those
        keep a date, never a time."""
        ...

    def open_next_step(self, person: Person) -> NextStep | None:
        """The next step written in the person's latest reflection that has one, decrypted,
        unless they have since said it is done or dropped. A newer next step replaces an
        older one. Settled by `finish` of a reflection whose `follow_up` names it."""
        ...

    def follow_up_wanted(self, person: Person) -> bool:
        """Whether the person wants to be asked about their last next step (yes until they
        say otherwise)."""
        ...

    def want_follow_up(self, person: Person, wanted: bool) -> None: ...

    def forget(self, person: Person) -> int:
        """Erase everything kept about the person; returns how many reflections went."""
        ...
