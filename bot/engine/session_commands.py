"""Session commands: what a leader asks of their reflection as a whole, rather than of its
current step. The flows on offer, pause, resume and stop, and what is in progress or waiting
(an unfinished flow, the current question, a safety question, the flow's opening words).

bot.engine.conversation routes typed words ("pause", "resume"...) and transports' buttons here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

from bot.engine import messages, sessions
from bot.engine.library import FlowLibrary
from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.engine.reflections import ReflectionStore
from bot.engine.replies import Choice, FlowOffer, Question, Reply, Say
from bot.engine.sessions import Waiting
from bot.engine.support import Support, check_in_question


class Unfinished(NamedTuple):
    flow_id: str
    title: str
    status: str


@dataclass(frozen=True)
class SessionCommands:
    library: FlowLibrary
    store: ReflectionStore
    clock: Callable[[], dt.datetime]
    #: The safety support as the person's organisation sets it (its signposts).
    support_for: Callable[[Person], Support]
    #: The person's organisation's settings, or None for the defaults.
    organisation_of: Callable[[Person], Organisation | None]

    def offer(self, person: Person) -> list[Reply]:
        name_part = f", {person.first_name}" if person.first_name else ""
        organisation = self.organisation_of(person)
        first = organisation.default_flow if organisation else self.library.default
        # The first flow leads; the rest keep the library's order (sorted is stable).
        listed = sorted(self.library, key=lambda flow: flow.id != first)
        flows = tuple(Choice(flow.id, flow.title) for flow in listed)
        return [FlowOffer(messages.text("offer.greeting", name_part=name_part), flows)]

    def pause(self, person: Person) -> list[Reply]:
        session = self.store.load_session(person)
        if session is None:
            return [Say(messages.text("session.nothing_active"))]
        self.store.save_session(person, replace(session, status="paused"))
        closing = [self.support_for(person).closing()] if session.signposted else []
        return [Say(messages.text("session.paused")), *closing]

    def resume(self, person: Person) -> list[Reply]:
        session = self.store.load_session(person)
        if session is None:
            return [Say(messages.text("session.nothing_paused"))]
        flow = self.library.get(session.flow_id)
        if flow is None:
            self.store.drop_session(person)
            return [Say(messages.text("session.nothing_paused"))]
        waiting: Waiting | None = "check_in" if session.waiting == "check_in" else None
        session = replace(session, status="active", waiting=waiting)
        self.store.save_session(person, session)
        replies: list[Reply] = [Say(messages.text("session.resumed", title=flow.title))]
        if waiting:
            return [*replies, check_in_question(again=True)]
        if session.signposted:
            replies.append(Say(self.support_for(person).signposts.reminder))
        replies.append(sessions.ask(flow, session, now=self.clock(), person=person))
        return replies

    def stop(self, person: Person) -> list[Reply]:
        session = self.store.load_session(person)
        if session is None:
            return [Say(messages.text("session.nothing_active"))]
        self.store.drop_session(person)
        closing = [self.support_for(person).closing()] if session.signposted else []
        return [Say(messages.text("session.stopped")), *closing]

    def safety_question_waiting(self, person: Person) -> bool:
        """Whether the check-in question or the after-crisis offer waits for an answer."""
        session = self.store.load_session(person)
        if session is not None and session.status == "active" and session.waiting:
            return True
        return self.support_for(person).check_in_waiting(person, session)

    def in_progress(self, person: Person) -> Unfinished | None:
        """The person's unfinished flow, active or paused, if any."""
        session = self.store.load_session(person)
        if session is None:
            return None
        flow = self.library.get(session.flow_id)
        title = flow.title if flow else session.flow_id
        return Unfinished(session.flow_id, title, session.status)

    def current(self, person: Person) -> Question | None:
        """The question waiting for this person, if a flow is active."""
        session = self.store.load_session(person)
        if session is None or session.status != "active":
            return None
        flow = self.library.get(session.flow_id)
        return sessions.ask(flow, session, now=self.clock(), person=person) if flow else None

    def opening(self, person: Person) -> list[Reply]:
        """The first words of the person's flow (its intro and first question) as they would
        be said to `person`, while nothing is answered yet; else []. For a transport that
        learns the person's name or time zone only after it has answered (bot.slack)."""
        session = self.store.load_session(person)
        flow = self.library.get(session.flow_id) if session is not None else None
        if session is None or flow is None or session.status != "active":
            return []
        if session.answers or session.waiting:
            return []
        now, recall = session.started_at, session.recall
        return list(sessions.start(flow, now=now, person=person, recall=recall).replies)
