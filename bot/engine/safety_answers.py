"""Safety answers: what follows a leader's answer to the safety questions, clicked or typed.

- The check-in question (Yes / Not sure / No): anything but No shows the crisis card; No carries
  on where the person was, taking the text that led to the question as usual.
- The offer after the crisis card (carry on / stop here / the numbers again).

bot.engine.support says what the screen's findings call for; bot.engine.conversation routes the
answers here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.engine import messages, sessions
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.reflections import ReflectionStore
from bot.engine.replies import Reply, Say
from bot.engine.safety import Concern
from bot.engine.session_commands import SessionCommands
from bot.engine.sessions import Session
from bot.engine.support import Support, next_step_typed, typed_no

#: Takes typed text in the person's flow, as if no question had come between (person, flow,
#: session, text).
CarryOn = Callable[[Person, Flow, Session, str], list[Reply]]


@dataclass(frozen=True)
class SafetyAnswers:
    #: The session commands, over the same library, store and clock.
    commands: SessionCommands
    carry_on: CarryOn

    @property
    def library(self) -> FlowLibrary:
        return self.commands.library

    @property
    def store(self) -> ReflectionStore:
        return self.commands.store

    def clock(self) -> dt.datetime:
        return self.commands.clock()

    def support_for(self, person: Person) -> Support:
        """The safety support as the person's organisation sets it (its signposts)."""
        return self.commands.support_for(person)

    def check_in_answered(self, person: Person, answer: str) -> list[Reply]:
        """An answer to the check-in question, clicked: anything but "no" shows the crisis
        card. A "no" to a question already answered changes nothing."""
        session = self.store.load_session(person)
        flow = self.library.get(session.flow_id) if session is not None else None
        support = self.support_for(person)
        waiting = support.check_in_waiting(person, session)
        if answer != "no":
            if waiting:
                support.answered(person)
            return support.crisis(person, session)
        if not waiting:
            return [Say(messages.text("session.stale"))]
        return self._check_in_no(person, flow, session)

    def after_crisis(self, person: Person, choice: str) -> list[Reply]:
        """A choice after the crisis card: carry_on, stop or numbers."""
        session = self.store.load_session(person)
        flow = self.library.get(session.flow_id) if session is not None else None
        support = self.support_for(person)
        if choice == "numbers":
            return support.crisis(person, session)
        if session is None or flow is None:
            return [Say(messages.text("session.nothing_active"))]
        if choice == "stop":
            if session.status != "active":
                return [support.closing()]
            paused = replace(session, status="paused", waiting=None, held=None)
            self.store.save_session(person, paused)
            return [Say(messages.text("safety.stopped_here")), support.closing()]
        if session.status != "active":
            return self.commands.resume(person)
        session = replace(session, waiting=None, held=None)
        self.store.save_session(person, session)
        question = sessions.ask(flow, session, now=self.clock(), person=person)
        return [Say(messages.text("safety.carry_on")), question]

    def check_in_typed(
        self,
        person: Person,
        flow: Flow | None,
        session: Session | None,
        word: str,
        concern: Concern | None,
    ) -> list[Reply]:
        """Typed while the check-in waits: No carries on; anything else shows the crisis card."""
        said_no = typed_no(word) and (concern is None or concern.outcome == "others")
        if not said_no:
            self.support_for(person).answered(person)
            return self.support_for(person).crisis(person, session)
        return self._check_in_no(person, flow, session)

    def after_crisis_typed(
        self, person: Person, session: Session, word: str, concern: Concern | None
    ) -> list[Reply]:
        """Typed while the after-crisis offer waits: one of its choices, in words, or the offer
        again. Risk words show the card again."""
        support = self.support_for(person)
        if concern is not None and concern.outcome != "others":
            return support.crisis(person, session)
        step = next_step_typed(word)
        if step is not None:
            return self.after_crisis(person, step)
        gentle = support.gentle(person, session) if concern is not None else []
        return [*gentle, support.after_crisis_offer(again=True)]

    def _check_in_no(
        self, person: Person, flow: Flow | None, session: Session | None
    ) -> list[Reply]:
        """No: carry on where the person was, taking the text that led to the question."""
        self.support_for(person).answered(person)
        thanks = Say(messages.text("safety.check_in_thanks"))
        if session is None or flow is None or session.status != "active":
            return [thanks, *self.commands.offer(person)]
        held = session.held
        session = replace(session, waiting=None, held=None)
        self.store.save_session(person, session)
        if held is None:
            return [thanks, sessions.ask(flow, session, now=self.clock(), person=person)]
        return [thanks, *self.carry_on(person, flow, session, held)]
