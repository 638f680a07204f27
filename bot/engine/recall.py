"""What a reflection remembers of earlier ones: the leader's last next step, what happened
since they last prepared for supervision, and where their answers point next.

Supervision is a relationship over time: it returns to last session's actions ("how did it
go?"). Reflect does the same, in the leader's own words, read back from the store under their
own key, and only when they have not switched follow-up off.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.engine import messages
from bot.engine.flows import ChoiceStep, Flow, FollowUpStep, MultiChoiceStep
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.reflections import FollowUp, FollowUpState, ReflectionStore
from bot.engine.sessions import Session

#: How many reflections "since your last supervision" looks over at most.
SINCE_LIMIT = 12
#: What each answer of a follow-up step makes of the next step it asks about.
_SETTLES: dict[str, FollowUpState] = {"done": "done", "carry_on": "carried", "drop": "dropped"}


def recall_for(
    flow: Flow,
    *,
    store: ReflectionStore,
    person: Person,
    library: FlowLibrary,
    now: dt.datetime,
) -> dict[str, Any]:
    """What `flow` needs to remember as it starts (see bot.engine.sessions.Session.recall)."""
    recall: dict[str, Any] = {}
    if any(isinstance(step, FollowUpStep) for step in flow.steps) and store.follow_up_wanted(
        person
    ):
        found = store.open_next_step(person)
        if found is not None:
            recall["next_step"] = {
                "reflection_id": found.reflection_id,
                "text": found.text,
                "when": when(found.finished_at, now=now, person=person),
            }
    if flow.area == "prepare":
        recall["since_last_supervision"] = since_last_supervision(
            store=store, person=person, library=library
        )
    return recall


def when(moment: dt.datetime, *, now: dt.datetime, person: Person) -> str:
    """When a reflection was, as a leader would say it: "yesterday", "on Tuesday"."""
    then, today = person.local(moment).date(), person.local(now).date()
    days = (today - then).days
    if days <= 0:
        return messages.text("follow_up.today")
    if days == 1:
        return messages.text("follow_up.yesterday")
    if days < 7:
        return messages.text("follow_up.this_week", weekday=f"{then:%A}")
    return messages.text("follow_up.earlier", date=f"{then.day} {then:%B}")


def since_last_supervision(
    *, store: ReflectionStore, person: Person, library: FlowLibrary
) -> list[str]:
    """A line for each reflection since the leader last prepared for supervision (newest
    first), with the next step they wrote in it, in their words."""
    lines: list[str] = []
    for reflection in store.reflections(person, limit=SINCE_LIMIT):
        flow = library.get(reflection.flow_id)
        if flow is not None and flow.area == "prepare":
            break
        title = flow.title if flow else reflection.flow_id
        date = f"{reflection.finished_at.day} {reflection.finished_at:%b}"
        step_id = next((s.id for s in flow.steps if s.ask_next_time), None) if flow else None
        written = next(
            (a.value for a in reflection.answers if a.step_id == step_id and a.value), None
        )
        if written:
            lines.append(
                messages.text("follow_up.since_item_step", date=date, title=title, step=written)
            )
        else:
            lines.append(messages.text("follow_up.since_item", date=date, title=title))
    return lines


def settled_by(flow: Flow, session: Session) -> FollowUp | None:
    """What the leader said of their last next step in this session, if they said anything
    that settles it (done, carry on, drop)."""
    asked = session.recall.get("next_step") or {}
    reflection_id = asked.get("reflection_id")
    if not reflection_id:
        return None
    for step in flow.steps:
        if isinstance(step, FollowUpStep):
            state = _SETTLES.get(str(session.answers.get(step.id)))
            if state is not None:
                return FollowUp(reflection_id=str(reflection_id), state=state)
    return None


def suggested_flows(flow: Flow, session: Session) -> list[str]:
    """The flows the leader's chosen options suggest (`suggests:`), in order, once each."""
    found: list[str] = []
    for step in flow.steps:
        if not isinstance(step, ChoiceStep | MultiChoiceStep) or step.id not in session.path:
            continue
        given = session.answers.get(step.id)
        chosen = given if isinstance(given, list) else [given]
        for option in step.options:
            wanted = option.suggests
            if option.value in chosen and wanted and wanted != flow.id and wanted not in found:
                found.append(wanted)
    return found
