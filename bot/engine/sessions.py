"""A flow in progress, and the pure state machine that walks it.

Nothing here does I/O. `start` and `answer` take a flow and a session and give back the next
session and the replies to show; the caller (bot.engine.conversation) persists the session
after every step, so a crash loses at most the message being typed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from jinja2 import meta

from bot.engine.conditions import evaluate
from bot.engine.conditions import names as condition_names
from bot.engine.flows import END, Branch, Flow, FollowUpStep, InfoStep, Step
from bot.engine.interpret import Refusal, interpret
from bot.engine.people import Person
from bot.engine.rendering import environment, prompt_context, render
from bot.engine.replies import Choice, Question, Reply, Say, Scale

Status = Literal["active", "paused"]
#: What the person was asked for their safety and has not answered yet: the check-in question,
#: or what to do after the crisis card. While it waits, the flow's next question is not asked.
Waiting = Literal["check_in", "after_crisis"]


@dataclass(frozen=True)
class Session:
    """Where one person is in one flow. Serialisable, so it survives restarts."""

    flow_id: str
    step_id: str
    started_at: dt.datetime
    answers: dict[str, Any] = field(default_factory=dict)
    path: tuple[str, ...] = ()
    status: Status = "active"
    signposted: bool = False
    waiting: Waiting | None = None
    #: The text that led to the check-in question, taken as usual once the person answers No.
    held: str | None = None
    #: What the engine recalled from earlier reflections when the flow started (the leader's
    #: last next step, what happened since their last supervision), for the templates and the
    #: follow-up step. Sealed with the rest of the session; gone when the session ends.
    recall: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "flow_id": self.flow_id,
                "step_id": self.step_id,
                "started_at": self.started_at.isoformat(),
                "answers": self.answers,
                "path": list(self.path),
                "status": self.status,
                "signposted": self.signposted,
                "waiting": self.waiting,
                "held": self.held,
                "recall": self.recall,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Session:
        data = json.loads(text)
        return cls(
            flow_id=data["flow_id"],
            step_id=data["step_id"],
            started_at=dt.datetime.fromisoformat(data["started_at"]),
            answers=dict(data.get("answers", {})),
            path=tuple(data.get("path", ())),
            status=data.get("status", "active"),
            signposted=bool(data.get("signposted", False)),
            waiting=data.get("waiting") if data.get("waiting") in _WAITING else None,
            held=data["held"] if isinstance(data.get("held"), str) else None,
            recall=dict(data.get("recall") or {}),
        )


_WAITING = frozenset({"check_in", "after_crisis"})


@dataclass(frozen=True)
class Turn:
    """The outcome of one input: the session as it now is, and what to show.

    `finished` is True when the flow has ended; `summary` then holds the rendered summary.
    """

    session: Session
    replies: tuple[Reply, ...]
    finished: bool = False
    summary: str | None = None


def start(
    flow: Flow,
    *,
    now: dt.datetime,
    person: Person | None = None,
    recall: dict[str, Any] | None = None,
) -> Turn:
    """Begin a flow: the intro, then the first step (and any info steps before it).
    `recall` is what the engine remembers from earlier reflections (see Session.recall)."""
    session = Session(
        flow_id=flow.id, step_id=flow.steps[0].id, started_at=now, recall=dict(recall or {})
    )
    intro = Say(render(flow.intro, _context(flow, session, person, now)))
    return _arrive(flow, session, flow.steps[0].id, now=now, person=person, before=(intro,))


def ask(
    flow: Flow,
    session: Session,
    *,
    now: dt.datetime,
    person: Person | None = None,
    reason: str | None = None,
) -> Question:
    """The current step, asked (again)."""
    step = flow.step(session.step_id)
    return _question(flow, session, step, now=now, person=person, reason=reason)


def answer(
    flow: Flow, session: Session, text: str, *, now: dt.datetime, person: Person | None = None
) -> Turn:
    """Take a typed answer to the current step."""
    step = flow.step(session.step_id)
    outcome = interpret(step, text)
    if isinstance(outcome, Refusal):
        return Turn(session, (ask(flow, session, now=now, person=person, reason=outcome.reason),))
    return _record(flow, session, step, outcome.value, now=now, person=person)


def choose(
    flow: Flow, session: Session, value: Any, *, now: dt.datetime, person: Person | None = None
) -> Turn:
    """Take an answer given by a button or select (already a value, not text)."""
    step = flow.step(session.step_id)
    outcome = interpret(step, value, typed=False)
    if isinstance(outcome, Refusal):
        return Turn(session, (ask(flow, session, now=now, person=person, reason=outcome.reason),))
    return _record(flow, session, step, outcome.value, now=now, person=person)


def skip(
    flow: Flow, session: Session, *, now: dt.datetime, reason: str, person: Person | None = None
) -> Turn:
    """Skip the current step if it is optional; otherwise ask it again with `reason`."""
    step = flow.step(session.step_id)
    if not step.optional:
        return Turn(session, (ask(flow, session, now=now, person=person, reason=reason),))
    return _record(flow, session, step, None, now=now, person=person)


def back(
    flow: Flow, session: Session, *, now: dt.datetime, reason: str, person: Person | None = None
) -> Turn:
    """Go back to the previous answered step, to change its answer."""
    path = [step_id for step_id in session.path if not _passes(flow.step(step_id))]
    if not path:
        return Turn(session, (ask(flow, session, now=now, person=person, reason=reason),))
    previous = path[-1]
    keep = session.path[: session.path.index(previous)]
    answers = {k: v for k, v in session.answers.items() if k in keep}
    moved = replace(session, step_id=previous, path=keep, answers=answers)
    return Turn(moved, (ask(flow, moved, now=now, person=person),))


def kept_answers(flow: Flow, session: Session) -> dict[str, Any]:
    """The answers whose steps say `store: yes`, in the order they were given."""
    return {
        step_id: session.answers[step_id]
        for step_id in session.path
        if step_id in session.answers
        and session.answers[step_id] is not None
        and flow.step(step_id).store == "yes"
    }


def _record(
    flow: Flow,
    session: Session,
    step: Step,
    value: Any,
    *,
    now: dt.datetime,
    person: Person | None,
) -> Turn:
    answers = {**session.answers, step.id: value}
    session = replace(session, answers=answers, path=(*session.path, step.id))
    turn = _arrive(flow, session, _next(flow, step, answers), now=now, person=person)
    if turn.finished:
        return turn
    return replace(turn, session=without_spent_answers(flow, turn.session))


def without_spent_answers(flow: Flow, session: Session) -> Session:
    """The session without the answers of `store: never` steps that no step still to come
    needs (in its prompt, help or branch conditions), so they are in no saved state once the
    step that needs them is done. A follow-up step's answer (done, carry on, drop: never the
    leader's words) is needed until the end, when it settles the last next step."""
    needs = _needs(flow)
    done = set(session.path)
    still_needed = {step.id for step in flow.steps if isinstance(step, FollowUpStep)}
    for step in flow.steps:
        if step.id not in done:
            still_needed |= needs[step.id]
    spent = [
        step_id
        for step_id in session.answers
        if step_id not in still_needed and _store_policy(flow, step_id) == "never"
    ]
    if not spent:
        return session
    return replace(session, answers={k: v for k, v in session.answers.items() if k not in spent})


def _store_policy(flow: Flow, step_id: str) -> str:
    try:
        return flow.step(step_id).store
    except KeyError:
        return "never"  # a step since removed from the flow: nothing can need its answer


_NEEDS: dict[int, tuple[Flow, dict[str, frozenset[str]]]] = {}


def _needs(flow: Flow) -> dict[str, frozenset[str]]:
    """For each step, the answers it uses: names in its prompt and help, and in the branch
    conditions that decide where it leads."""
    cached = _NEEDS.get(id(flow))
    if cached is not None and cached[0] is flow:
        return cached[1]
    env = environment()
    found: dict[str, frozenset[str]] = {}
    for step in flow.steps:
        names: set[str] = set()
        for template in (step.prompt, step.help):
            if template:
                names |= meta.find_undeclared_variables(env.parse(template))
        for route in step.next if isinstance(step.next, list) else []:
            if isinstance(route, Branch):
                names |= condition_names(route.when)
        found[step.id] = frozenset(names)
    _NEEDS[id(flow)] = (flow, found)
    return found


def _next(flow: Flow, step: Step, answers: dict[str, Any]) -> str:
    if step.next is None:
        position = flow.index(step.id) + 1
        return flow.steps[position].id if position < len(flow.steps) else END
    if isinstance(step.next, str):
        return step.next
    for route in step.next:
        if isinstance(route, Branch):
            if evaluate(route.when, answers):
                return route.then
        else:
            return route.otherwise
    position = flow.index(step.id) + 1
    return flow.steps[position].id if position < len(flow.steps) else END


def _arrive(
    flow: Flow,
    session: Session,
    step_id: str,
    *,
    now: dt.datetime,
    person: Person | None,
    before: tuple[Reply, ...] = (),
) -> Turn:
    """Move to `step_id`, showing info steps on the way, until a step needs an answer."""
    replies = list(before)
    while step_id != END:
        step = flow.step(step_id)
        session = replace(session, step_id=step_id)
        if isinstance(step, FollowUpStep) and not session.recall.get("next_step"):
            # Nothing to follow up (or the leader switched it off): pass over it unseen.
            step_id = _next(flow, step, session.answers)
            continue
        if not isinstance(step, InfoStep):
            replies.append(_question(flow, session, step, now=now, person=person))
            return Turn(session, tuple(replies))
        context = _context(flow, session, person, now)
        replies.append(Say(render(step.prompt, context)))
        session = replace(session, path=(*session.path, step.id))
        step_id = _next(flow, step, session.answers)
    context = _context(flow, session, person, now)
    summary = render(flow.summary, context)
    return Turn(session, tuple(replies), finished=True, summary=summary)


def _context(
    flow: Flow, session: Session, person: Person | None, now: dt.datetime
) -> dict[str, Any]:
    return prompt_context(flow, session.answers, person, now, session.recall)


def _passes(step: Step) -> bool:
    """Whether a step is shown without waiting for an answer."""
    return isinstance(step, InfoStep)


def _question(
    flow: Flow,
    session: Session,
    step: Step,
    *,
    now: dt.datetime,
    person: Person | None,
    reason: str | None = None,
) -> Question:
    context = _context(flow, session, person, now)
    choices: tuple[Choice, ...] = ()
    scale = None
    if step.kind in ("choice", "multi", "follow_up"):
        choices = tuple(Choice(o.value, o.label) for o in step.options)
    if step.kind == "scale":
        points = tuple(step.word(n) for n in range(step.min, step.max + 1))
        scale = Scale(
            step.min, step.max, step.labels.min, step.labels.max, points=points, heavy=step.heavy
        )
    answered = [s for s in session.path if not _passes(flow.step(s))]
    return Question(
        flow_id=flow.id,
        flow_title=flow.title,
        step_id=step.id,
        step_kind=step.kind,
        text=render(step.prompt, context),
        position=len(answered) + 1,
        choices=choices,
        scale=scale,
        optional=step.optional,
        can_go_back=bool(answered),
        reason=reason,
    )
