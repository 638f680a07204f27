"""Conversations: the engine's one entry point for transports (Slack, the terminal).

Every piece of text a leader sends goes through `receive`, which screens it for safety before
anything else happens to it (bot.engine.support answers what the screen found), then routes it:
an answer to a safety question, a command (pause, stop, help...), an answer to the current step,
or the choice of a flow. Text typed elsewhere (after `/reflect`, at the terminal's prompts)
goes through `screen_input`. Buttons come in through `start`, `choose`, `check_in_answered`,
`after_crisis` and `suggestion_answered`. The session is saved after every step; when the flow
ends, bot.engine.finishing keeps the reflection and says what follows it.

Follow-up from last time: when a flow starts, the engine recalls the leader's last open next
step (in their own words, from the store, under their own key) and, for flows that use it,
what happened since they last prepared for supervision; a flow's `follow_up` step asks about
it, and the answer settles it when the flow is finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from bot.engine import messages, safety, sessions
from bot.engine.clock import utcnow
from bot.engine.finishing import Finishing
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.recall import recall_for
from bot.engine.reflections import Event, ReflectionStore
from bot.engine.rendering import prompt_context, render
from bot.engine.replies import Choice, FlowOffer, Question, Reply, Say
from bot.engine.safety import Concern
from bot.engine.sessions import Session, Turn, Waiting
from bot.engine.signposts import Signposts
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.engine.support import Screened, Support, check_in_question, next_step_typed, typed_no

#: The longest message the engine reads; longer text is cut here (Slack allows 40,000).
MAX_INPUT = 40_000


class Unfinished(NamedTuple):
    flow_id: str
    title: str
    status: str


class Conversations:
    def __init__(
        self,
        *,
        library: FlowLibrary,
        store: ReflectionStore,
        signposts: Signposts,
        suggestions: SuggestionPolicy | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        screen: Callable[[str], Concern | None] = safety.screen,
    ) -> None:
        self.library = library
        self.store = store
        self.signposts = signposts
        self.clock = clock
        self.screen = screen
        self.support = Support(store=store, signposts=signposts, clock=clock)
        self.finishing = Finishing(
            store=store,
            library=library,
            support=self.support,
            suggestions=suggestions or SuggestionPolicy(),
            clock=clock,
        )

    @property
    def suggestions(self) -> SuggestionPolicy:
        """When to suggest booking a supervisor, and whom (see bot.engine.finishing)."""
        return self.finishing.suggestions

    @suggestions.setter
    def suggestions(self, policy: SuggestionPolicy) -> None:
        self.finishing.suggestions = policy

    # ------------------------------------------------------------------ typed text

    def receive(self, person: Person, text: str) -> list[Reply]:
        """Anything a leader types, in a flow or not."""
        text = _storable(text[:MAX_INPUT])
        concern = self.screen(text)  # before anything else happens to the text
        session = self.store.load_session(person)
        flow = self.library.get(session.flow_id) if session is not None else None
        if session is not None and session.status == "active" and flow is None:
            # The flow was removed since; nothing to continue.
            self.store.drop_session(person)
            session = None
        word = _normalise(text)

        if self.support.check_in_waiting(person, session):
            return self._check_in_typed(person, flow, session, text, word, concern)
        if session is not None and session.waiting == "after_crisis" and flow is not None:
            return self._after_crisis_typed(person, flow, session, word, concern)
        screened = self.support.answer(person, concern, session, held=text)
        if not screened.go_on:
            return screened.replies
        replies = screened.replies
        if flow is not None and session is not None and session.status == "active":
            return [*replies, *self._in_flow(person, flow, session, text, word)]
        return [*replies, *self._idle(person, text, word)]

    def screen_input(self, person: Person, text: str) -> Screened:
        """The safety screen, for text that does not go through `receive` (typed after
        `/reflect`, into a modal or the Home tab, at the terminal's prompts): the replies to show
        first, and whether the text goes on to be handled as usual."""
        text = _storable(text[:MAX_INPUT])
        concern = self.screen(text)
        session = self.store.load_session(person)
        return self.support.answer(person, concern, session, held=None)

    def _idle(self, person: Person, text: str, word: str) -> list[Reply]:
        """Text with no flow in progress: a command, a flow's name, or anything else."""
        if word in messages.words("resume"):
            return self.resume(person)
        if word in messages.words("help"):
            return [Say(messages.text("help_idle"))]
        if word in messages.words("pause") | messages.words("stop"):
            return [Say(messages.text("session.nothing_active"))]
        if word in messages.words("follow_up_off") | messages.words("follow_up_on"):
            on = word in messages.words("follow_up_on")
            return self.set_follow_up(person, wanted=on)
        flow = self.library.find(text)
        if flow is not None:
            return self.start(person, flow.id)
        return self.offer(person)

    def _in_flow(
        self, person: Person, flow: Flow, session: Session, text: str, word: str
    ) -> list[Reply]:
        now = self.clock()
        if word in messages.words("pause"):
            return self.pause(person)
        if word in messages.words("stop"):
            return self.stop(person)
        if word in messages.words("help"):
            question = sessions.ask(flow, session, now=now, person=person)
            step = flow.step(session.step_id)
            context = prompt_context(flow, session.answers, person, now, session.recall)
            extra = [Say(render(step.help, context))] if step.help else []
            helptext = messages.text("help", title=flow.title, position=question.position)
            return [Say(helptext), *extra, question]
        if session.signposted and word in messages.words("not_meant"):
            # One "that's not what I meant" does not switch the support off.
            return [
                Say(messages.text("safety.acknowledged")),
                sessions.ask(flow, session, now=now, person=person),
            ]
        if word in messages.words("follow_up_off") | messages.words("follow_up_on"):
            on = word in messages.words("follow_up_on")
            return [
                *self.set_follow_up(person, wanted=on),
                sessions.ask(flow, session, now=now, person=person),
            ]
        if word in messages.words("back"):
            turn = sessions.back(
                flow, session, now=now, person=person, reason=messages.text("reask.no_back")
            )
        elif word in messages.words("skip"):
            turn = sessions.skip(
                flow, session, now=now, person=person, reason=messages.text("reask.not_optional")
            )
        else:
            turn = sessions.answer(flow, session, text, now=now, person=person)
        return self._advance(person, flow, turn)

    # ------------------------------------------------------------------ safety answers

    def check_in_answered(self, person: Person, answer: str) -> list[Reply]:
        """An answer to the check-in question, clicked: anything but "no" shows the crisis
        card. A "no" to a question already answered changes nothing."""
        session = self.store.load_session(person)
        flow = self.library.get(session.flow_id) if session is not None else None
        waiting = self.support.check_in_waiting(person, session)
        if answer != "no":
            if waiting:
                self.support.answered(person)
            return self.support.crisis(person, session)
        if not waiting:
            return [Say(messages.text("session.stale"))]
        return self._check_in_no(person, flow, session)

    def after_crisis(self, person: Person, choice: str) -> list[Reply]:
        """A choice after the crisis card: carry_on, stop or numbers."""
        session = self.store.load_session(person)
        flow = self.library.get(session.flow_id) if session is not None else None
        if choice == "numbers":
            return self.support.crisis(person, session)
        if session is None or flow is None:
            return [Say(messages.text("session.nothing_active"))]
        if choice == "stop":
            if session.status != "active":
                return [self.support.closing()]
            paused = replace(session, status="paused", waiting=None, held=None)
            self.store.save_session(person, paused)
            return [Say(messages.text("safety.stopped_here")), self.support.closing()]
        if session.status != "active":
            return self.resume(person)
        session = replace(session, waiting=None, held=None)
        self.store.save_session(person, session)
        question = sessions.ask(flow, session, now=self.clock(), person=person)
        return [Say(messages.text("safety.carry_on")), question]

    def _check_in_typed(
        self,
        person: Person,
        flow: Flow | None,
        session: Session | None,
        text: str,
        word: str,
        concern: Concern | None,
    ) -> list[Reply]:
        """Typed while the check-in waits: No carries on; anything else shows the crisis card."""
        said_no = typed_no(word) and (concern is None or concern.outcome == "others")
        if not said_no:
            self.support.answered(person)
            return self.support.crisis(person, session)
        return self._check_in_no(person, flow, session)

    def _check_in_no(
        self, person: Person, flow: Flow | None, session: Session | None
    ) -> list[Reply]:
        """No: carry on where the person was, taking the text that led to the question."""
        self.support.answered(person)
        thanks = Say(messages.text("safety.check_in_thanks"))
        if session is None or flow is None or session.status != "active":
            return [thanks, *self.offer(person)]
        held = session.held
        session = replace(session, waiting=None, held=None)
        self.store.save_session(person, session)
        if held is None:
            return [thanks, sessions.ask(flow, session, now=self.clock(), person=person)]
        return [thanks, *self._in_flow(person, flow, session, held, _normalise(held))]

    def _after_crisis_typed(
        self, person: Person, flow: Flow, session: Session, word: str, concern: Concern | None
    ) -> list[Reply]:
        """Typed while the after-crisis offer waits: one of its choices, in words, or the offer
        again. Risk words show the card again."""
        if concern is not None and concern.outcome != "others":
            return self.support.crisis(person, session)
        step = next_step_typed(word)
        if step is not None:
            return self.after_crisis(person, step)
        gentle = self.support.gentle(person, session) if concern is not None else []
        return [*gentle, self.support.after_crisis_offer(again=True)]

    # ------------------------------------------------------------------ buttons

    def start(self, person: Person, flow_id: str) -> list[Reply]:
        """Start a flow (a button, `/reflect FLOW`, or its name typed)."""
        flow = self.library.get(flow_id)
        if flow is None:
            return [Say(messages.text("session.unknown_flow", name=flow_id)), *self.offer(person)]
        replies: list[Reply] = []
        current = self.store.load_session(person)
        if current is not None and current.flow_id == flow.id and current.status == "active":
            replies.append(Say(messages.text("session.already_active", title=flow.title)))
            if current.waiting == "check_in":
                return [*replies, check_in_question(again=True)]
            if current.waiting == "after_crisis":  # starting it again is carrying on
                current = replace(current, waiting=None, held=None)
                self.store.save_session(person, current)
            replies.append(sessions.ask(flow, current, now=self.clock(), person=person))
            return replies
        if current is not None:
            old = self.library.get(current.flow_id)
            title = old.title if old else current.flow_id
            replies.append(Say(messages.text("session.replaced", title=title)))
        now = self.clock()
        recall = recall_for(
            flow,
            store=self.store,
            person=person,
            library=self.library,
            now=now,
        )
        turn = sessions.start(flow, now=now, person=person, recall=recall)
        if current is not None and current.signposted:
            turn = replace(turn, session=replace(turn.session, signposted=True))
        return [*replies, *self._advance(person, flow, turn)]

    def choose(self, person: Person, *, flow_id: str, step_id: str, value: object) -> list[Reply]:
        """An answer from a button or select. A click on an old or answered question changes
        nothing."""
        session = self.store.load_session(person)
        if (
            session is None
            or session.status != "active"
            or session.flow_id != flow_id
            or session.step_id != step_id
        ):
            return [Say(messages.text("session.stale"))]
        flow = self.library.get(flow_id)
        if flow is None:
            return [Say(messages.text("session.stale"))]
        if session.waiting == "check_in":  # the safety question comes first
            return [check_in_question(again=True)]
        if session.waiting == "after_crisis":
            return [self.support.after_crisis_offer(again=True)]
        turn = sessions.choose(flow, session, value, now=self.clock(), person=person)
        return self._advance(person, flow, turn)

    def suggestion_answered(self, person: Person, *, opened: bool) -> None:
        """The leader opened a supervisor's booking page (opened) or said "Not now" (which
        keeps the suggestion away for a while). Counted, no more: opening a page is not
        booking, and nobody is told."""
        event: Event = "nudge_followed" if opened else "nudge_dismissed"
        self.store.record(person, event, at=self.clock())

    def set_follow_up(self, person: Person, *, wanted: bool) -> list[Reply]:
        """Switch follow-up from last time on or off for this person."""
        self.store.want_follow_up(person, wanted)
        return [Say(messages.text("follow_up.switched_on" if wanted else "follow_up.switched_off"))]

    # ------------------------------------------------------------------ session commands

    def offer(self, person: Person) -> list[Reply]:
        name_part = f", {person.first_name}" if person.first_name else ""
        flows = tuple(Choice(flow.id, flow.title) for flow in self.library)
        return [FlowOffer(messages.text("offer.greeting", name_part=name_part), flows)]

    def pause(self, person: Person) -> list[Reply]:
        session = self.store.load_session(person)
        if session is None:
            return [Say(messages.text("session.nothing_active"))]
        self.store.save_session(person, replace(session, status="paused"))
        closing = [self.support.closing()] if session.signposted else []
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
            replies.append(Say(self.signposts.reminder))
        replies.append(sessions.ask(flow, session, now=self.clock(), person=person))
        return replies

    def stop(self, person: Person) -> list[Reply]:
        session = self.store.load_session(person)
        if session is None:
            return [Say(messages.text("session.nothing_active"))]
        self.store.drop_session(person)
        closing = [self.support.closing()] if session.signposted else []
        return [Say(messages.text("session.stopped")), *closing]

    def safety_question_waiting(self, person: Person) -> bool:
        """Whether the check-in question or the after-crisis offer waits for an answer."""
        session = self.store.load_session(person)
        if session is not None and session.status == "active" and session.waiting:
            return True
        return self.support.check_in_waiting(person, session)

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

    # ------------------------------------------------------------------ internals

    def _advance(self, person: Person, flow: Flow, turn: Turn) -> list[Reply]:
        replies = list(turn.replies)
        self.finishing.follow_up_choice(person, flow, turn.session)
        if not turn.finished:
            self.store.save_session(person, turn.session)
            return replies
        return replies + self.finishing.finish(person, flow, turn)

    def agenda(self, person: Person) -> str | None:
        """The leader's latest supervision agenda (for booking from the Home tab)."""
        return self.finishing.agenda(person)


def _storable(text: str) -> str:
    """Text as UTF-8 can hold it: a lone surrogate (valid in JSON) becomes "?"."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split()).strip(" .!")
