"""What both stores (bot.store.sqlite, bot.store.postgres) do to a row, whatever the database.

Pure functions, no SQL: redaction before a reflection is kept, sealing and unsealing answers,
sessions and events under the person's data key (with the row's identity as associated data),
the day an event keeps, how a scale reads (its mark), and turning rows back into what the engine
and the aggregates read. A time comes from SQLite as text and from PostgreSQL as a datetime;
`moment` reads either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bot.engine.reflections import (
    SAFETY_EVENTS,
    Answer,
    NextStep,
    Reflection,
    ScaleMark,
    StoredReflection,
)
from bot.engine.sessions import Session
from bot.store.errors import UnreadableError
from bot.store.privacy import row_aad, seal, unseal
from bot.store.redaction import redact
from bot.store.stats import EventFact, ScaleFact
from bot.store.times import parse, stamp

log = logging.getLogger(__name__)

#: Events answered to a supervisor suggestion, attributed to the flow of the person's last one.
NUDGE_ANSWERS = frozenset({"nudge_followed", "nudge_dismissed"})
#: Slack retries an event for a few minutes; its id is remembered for a day.
SEEN_EVENTS_FOR = dt.timedelta(days=1)
#: A signed request is accepted for 5 minutes either side of its timestamp; remembered for
#: the whole of that window, with a minute to spare for clocks that differ.
SEEN_REQUESTS_FOR = dt.timedelta(minutes=11)


def utc(at: dt.datetime) -> dt.datetime:
    """Aware, UTC (a naive datetime is taken to be UTC already, as in times.stamp)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def moment(at: str | dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC datetime: SQLite's text or PostgreSQL's datetime."""
    return parse(at) if isinstance(at, str) else utc(at)


def day(at: dt.datetime) -> str:
    """The day of `at` (UTC), as the store writes times: midnight."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return stamp(dt.datetime.combine(at.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC))


# ---------------------------------------------------------------------- sessions


def read_session(who: str, sealed: bytes, key_of: Callable[[], bytes | None]) -> Session | None:
    """The session sealed in a row, or None (logged) if it cannot be read: the store then
    drops it."""
    try:
        key = key_of()
        if key is None:
            raise UnreadableError("no data key")
        state = unseal(key, sealed, aad=row_aad("sessions", who, "state"))
        return Session.from_json(state.decode("utf-8"))
    except (UnreadableError, ValueError, KeyError):
        log.warning("a session could not be read and was dropped")
        return None


def sealed_session(key: bytes, who: str, session: Session) -> bytes:
    return seal(key, session.to_json().encode("utf-8"), aad=row_aad("sessions", who, "state"))


# ---------------------------------------------------------------------- reflections


@dataclasses.dataclass(frozen=True)
class Redacted:
    """A reflection as it is kept, before sealing: free text redacted, and the step whose
    written answer is the next step (if it has one)."""

    summary: bytes
    next_step: str | None
    answers: list[Answer]


def redacted_reflection(reflection: Reflection) -> Redacted:
    """Redaction, the costly part, done before any transaction (or person's lock) starts."""
    answered = {a.step_id for a in reflection.answers if a.kind == "text" and a.value}
    return Redacted(
        summary=redact(reflection.summary).encode("utf-8"),
        next_step=reflection.next_step if reflection.next_step in answered else None,
        answers=[
            dataclasses.replace(a, value=redacted(a.value)) if a.kind == "text" else a
            for a in reflection.answers
        ],
    )


def sealed_summary(key: bytes, reflection_id: str, who: str, summary: bytes) -> bytes:
    return seal(key, summary, aad=row_aad("reflections", reflection_id, who, "summary"))


def answer_row(
    key: bytes, reflection_id: str, who: str, position: int, answer: Answer
) -> tuple[Any, ...]:
    """Every kind of answer is sealed: a choice says as much about a person as a sentence.
    A scale answer keeps, in clear, how its scale reads (bounds and heavy end: the flow's, not
    the person's)."""
    mark = None
    if answer.scale is not None:
        mark = json.dumps(
            {"min": answer.scale.min, "max": answer.scale.max, "heavy": answer.scale.heavy}
        )
    sealed = seal(
        key,
        json.dumps(answer.value, ensure_ascii=False).encode("utf-8"),  # redacted already
        aad=row_aad("answers", reflection_id, answer.step_id, who),
    )
    return (reflection_id, answer.step_id, position, answer.kind, None, sealed, mark)


def answer_rows(key: bytes, reflection_id: str, who: str, kept: Redacted) -> list[tuple[Any, ...]]:
    return [
        answer_row(key, reflection_id, who, position, answer)
        for position, answer in enumerate(kept.answers)
    ]


def answer(key: bytes, reflection_id: str, who: str, row: Sequence[Any]) -> Answer:
    """An answer row (step_id, kind, value, sealed, scale) read back."""
    step_id, kind, value, sealed, mark = row
    if sealed is None:  # a row from before answers were all sealed, not yet converted
        return Answer(step_id, kind, json.loads(value), scale_mark(mark))
    text = unseal(key, sealed, aad=row_aad("answers", reflection_id, step_id, who))
    return Answer(step_id, kind, json.loads(text), scale_mark(mark))


def stored_reflections(
    key: bytes | None,
    who: str,
    rows: Sequence[Sequence[Any]],
    answers: Mapping[str, Sequence[Sequence[Any]]],
) -> list[StoredReflection]:
    """Reflection rows (id, flow_id, started_at, finished_at, summary), with their answer rows
    by reflection id, read back; what does not unseal is left out (logged)."""
    if key is None:
        if rows:
            log.warning("%d reflections have no data key and cannot be read", len(rows))
        return []
    kept: list[StoredReflection] = []
    for reflection_id, flow_id, started_at, finished_at, summary in rows:
        try:
            kept.append(
                StoredReflection(
                    id=reflection_id,
                    flow_id=flow_id,
                    started_at=moment(started_at),
                    finished_at=moment(finished_at),
                    summary=unseal(
                        key, summary, aad=row_aad("reflections", reflection_id, who, "summary")
                    ).decode("utf-8"),
                    answers=tuple(
                        answer(key, reflection_id, who, row) for row in answers[reflection_id]
                    ),
                )
            )
        except UnreadableError:
            log.warning("a reflection could not be decrypted and was left out")
    return kept


def next_step(
    key: bytes | None, who: str, row: Sequence[Any], written: Sequence[Any] | None
) -> NextStep | None:
    """The next step from a reflection row (id, flow_id, finished_at, next_step, follow_up)
    and its written answer's row, unless it cannot be read or is blank."""
    if written is None or key is None:
        return None
    reflection_id, flow_id, finished_at, _step_id, state = row
    try:
        text = answer(key, reflection_id, who, written).value
    except UnreadableError:
        log.warning("a next step could not be decrypted and was left out")
        return None
    if not isinstance(text, str) or not text.strip():
        return None
    return NextStep(
        reflection_id=reflection_id,
        flow_id=flow_id,
        finished_at=moment(finished_at),
        text=text,
        state=state,
    )


def scale_mark(raw: str | None) -> ScaleMark | None:
    if not raw:
        return None
    data = json.loads(raw)
    return ScaleMark(min=int(data["min"]), max=int(data["max"]), heavy=data["heavy"])


def heavy_high(number: Any, mark: str | None) -> Any:
    """A scale answer read so that higher is heavier."""
    scale = scale_mark(mark)
    if scale is not None and scale.heavy == "min" and isinstance(number, int):
        return scale.min + scale.max - number
    return number


def redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


# ---------------------------------------------------------------------- events


def sealed_event(
    key: bytes, who: str, row_id: str, event: str, flow_id: str | None, *, at: dt.datetime
) -> bytes:
    """What happened, sealed under the person's key. A safety event keeps its moment inside
    the seal (the conversation needs it: is the check-in question still waiting?); the row
    itself keeps only the day."""
    fields: dict[str, Any] = {"event": event, "flow_id": flow_id}
    if event in SAFETY_EVENTS:
        fields["at"] = stamp(at)
    return seal(key, json.dumps(fields).encode("utf-8"), aad=row_aad("events", row_id, who))


def event(
    key: bytes, who: str, row_id: int, at: str | dt.datetime, sealed: bytes
) -> EventFact | None:
    try:
        body = json.loads(unseal(key, sealed, aad=row_aad("events", str(row_id), who)))
    except (UnreadableError, ValueError, TypeError):
        return None
    kept = body.get("at") if body.get("event") in SAFETY_EVENTS else None
    return EventFact(
        pseudonym=who,
        event=body.get("event"),
        flow_id=body.get("flow_id"),
        at=moment(kept or at),
    )


def events(key: bytes, who: str, rows: Iterable[Sequence[Any]]) -> list[EventFact]:
    """Event rows (id, at, sealed) unsealed; rows that do not unseal are skipped."""
    facts = (event(key, who, row_id, at, sealed) for row_id, at, sealed in rows)
    return [fact for fact in facts if fact is not None]


def nudge_answer(
    what: str, flow_id: str | None, mine: Sequence[EventFact], on: dt.datetime
) -> tuple[str | None, bool]:
    """For an answer to a supervisor suggestion: the flow it is attributed to (that of the
    person's last suggestion, if not given), and whether it is already kept for that day
    (once a day: aggregates count people, not clicks)."""
    if flow_id is None:
        shown = [e for e in mine if e.event == "nudge_shown"]
        flow_id = shown[0].flow_id if shown else None
    return flow_id, any((e.event, e.flow_id, e.at) == (what, flow_id, on) for e in mine)


# ---------------------------------------------------------------------- aggregates


def activity_facts(
    scale_rows: Iterable[Sequence[Any]],
    event_rows: Iterable[Sequence[Any]],
    keys: Mapping[str, bytes | None],
) -> tuple[list[ScaleFact], list[EventFact]]:
    """Scale answer rows (reflection_id, step_id, value, sealed, scale, pseudonym) read the one
    way round (higher is heavier), and the supervisor suggestion events among event rows
    (id, at, sealed, pseudonym), each with its person's key."""
    found = [
        fact
        for row_id, at, sealed, who in event_rows
        if (key := keys.get(who)) is not None
        and (fact := event(key, who, row_id, at, sealed)) is not None
        and fact.event in ("nudge_shown", "nudge_followed")
    ]
    scales: list[ScaleFact] = []
    for rid, step, value, sealed, mark, who in scale_rows:
        if sealed is None:  # written before answers were all sealed
            number = heavy_high(json.loads(value), mark)
            scales.append(ScaleFact(reflection_id=rid, step_id=step, value=number))
        elif (key := keys.get(who)) is not None:
            with contextlib.suppress(UnreadableError):
                plain = unseal(key, sealed, aad=row_aad("answers", rid, step, who))
                number = heavy_high(json.loads(plain), mark)
                scales.append(ScaleFact(reflection_id=rid, step_id=step, value=number))
    return scales, found
