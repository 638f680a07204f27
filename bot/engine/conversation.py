"""Conversations: the engine's one entry point for transports (Slack, the terminal).

Every piece of text a leader sends goes through `receive`, which screens it for safety before
anything else happens to it (bot.engine.support answers what the screen found), then routes it:
an answer to a safety question, a command (pause, stop, help...), an answer to the current step,
or the choice of a flow. Text typed elsewhere (after `/reflect`, at the terminal's prompts)
goes through `screen_input`. Buttons come in through `start`, `choose`, `check_in_answered`,
`after_crisis` and `suggestion_answered`. The session is saved after every step; when the flow
ends, bot.engine.finishing keeps the reflection and says what follows it. Answers to the safety
questions are taken by bot.engine.safety_answers; pause, resume, stop and the flows on offer by
bot.engine.session_commands.

Follow-up from last time: when a flow starts, the engine recalls the leader's last open next
step (in their own words, from the store, under their own key) and, for flows that use it,
what happened since they last prepared for supervision; a flow's `follow_up` step asks about
it, and the answer settles it when the flow is finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

from bot.engine import messages, safety, sessions
from bot.engine.clock import utcnow
from bot.engine.finishing import Finishing
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.engine.recall import recall_for
from bot.engine.reflections import Event, ReflectionStore
from bot.engine.rendering import prompt_context, render
from bot.engine.replies import Question, Reply, Say, Supervisor
from bot.engine.safety import Concern
from bot.engine.safety_answers import SafetyAnswers
from bot.engine.session_commands import SessionCommands, Unfinished
from bot.engine.sessions import Session, Turn
from bot.engine.signposts import Signposts
from bot.engine.step_memo import Remembering, Step
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.engine.support import Screened, Support, check_in_question

#: The longest message the engine reads; longer text is cut here (Slack allows 40,000).
MAX_INPUT = 40_000


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
        organisation_of: Callable[[Person], Organisation | None] | None = None,
    ) -> None:
        self.library = library
        #: The person's organisation's settings (signposts, supervisors, default flow), or
        #: None for the defaults given here.
        self.organisation_of = organisation_of
        #: The store, remembering the session while a step runs (see `step`).
        self.remembering = Remembering(store)
        self.store: ReflectionStore = self.remembering
        self.signposts = signposts
        self.clock = clock
        self.screen = screen
        self.support = Support(store=self.store, signposts=signposts, clock=clock)
        self.finishing = Finishing(
            store=self.store,
            library=library,
            support=self.support,
            suggestions=suggestions or SuggestionPolicy(),
            clock=clock,
        )
        self.commands = SessionCommands(
            library=library,
            store=self.store,
            clock=clock,
            support_for=self._support,
            organisation_of=self.organisation,
        )
        self.safety_answers = SafetyAnswers(
            commands=self.commands,
            carry_on=lambda person, flow, session, text: self._in_flow(
                person, flow, session, text, _normalise(text)
            ),
        )

    @property
    def suggestions(self) -> SuggestionPolicy:
        """When to suggest booking a supervisor, and whom (see bot.engine.finishing)."""
        return self.finishing.suggestions

    @suggestions.setter
    def suggestions(self, policy: SuggestionPolicy) -> None:
        self.finishing.suggestions = policy

    def step(self, person: Person) -> AbstractContextManager[Step]:
        """Around one request's engine calls (inside its writing transaction): the session is
        read once, and the Step says what it was before and whether the step ended the flow."""
        return self.remembering.step(person)

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

        if self._support(person).check_in_waiting(person, session):
            return self.safety_answers.check_in_typed(person, flow, session, word, concern)
        if session is not None and session.waiting == "after_crisis" and flow is not None:
            return self.safety_answers.after_crisis_typed(person, session, word, concern)
        screened = self._support(person).answer(person, concern, session, held=text)
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
        return self._support(person).answer(person, concern, session, held=None)

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
        """An answer to the check-in question, clicked (see bot.engine.safety_answers)."""
        return self.safety_answers.check_in_answered(person, answer)

    def after_crisis(self, person: Person, choice: str) -> list[Reply]:
        """A choice after the crisis card: carry_on, stop or numbers."""
        return self.safety_answers.after_crisis(person, choice)

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
            return [self._support(person).after_crisis_offer(again=True)]
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
    # (bot.engine.session_commands)

    def offer(self, person: Person) -> list[Reply]:
        return self.commands.offer(person)

    def pause(self, person: Person) -> list[Reply]:
        return self.commands.pause(person)

    def resume(self, person: Person) -> list[Reply]:
        return self.commands.resume(person)

    def stop(self, person: Person) -> list[Reply]:
        return self.commands.stop(person)

    def safety_question_waiting(self, person: Person) -> bool:
        return self.commands.safety_question_waiting(person)

    def in_progress(self, person: Person) -> Unfinished | None:
        return self.commands.in_progress(person)

    def current(self, person: Person) -> Question | None:
        return self.commands.current(person)

    def opening(self, person: Person) -> list[Reply]:
        return self.commands.opening(person)

    # ------------------------------------------------------------------ organisations

    def organisation(self, person: Person) -> Organisation | None:
        """The settings of the person's organisation, or None where only the defaults apply."""
        return self.organisation_of(person) if self.organisation_of is not None else None

    def supervisors_for(self, person: Person) -> tuple[Supervisor, ...]:
        """The supervisor directory the person's organisation lists (or the default one)."""
        return self._finishing(person).suggestions.supervisors

    def _support(self, person: Person) -> Support:
        organisation = self.organisation(person)
        if organisation is None or organisation.signposts is self.support.signposts:
            return self.support
        return replace(self.support, signposts=organisation.signposts)

    def _finishing(self, person: Person) -> Finishing:
        organisation = self.organisation(person)
        if organisation is None:
            return self.finishing
        suggestions = replace(self.suggestions, supervisors=organisation.supervisors)
        return replace(self.finishing, support=self._support(person), suggestions=suggestions)

    # ------------------------------------------------------------------ internals

    def _advance(self, person: Person, flow: Flow, turn: Turn) -> list[Reply]:
        replies = list(turn.replies)
        self._finishing(person).follow_up_choice(person, flow, turn.session)
        if not turn.finished:
            self.store.save_session(person, turn.session)
            return replies
        return replies + self._finishing(person).finish(person, flow, turn)

    def agenda(self, person: Person) -> str | None:
        """The leader's latest supervision agenda (for booking from the Home tab)."""
        return self._finishing(person).agenda(person)


def _storable(text: str) -> str:
    """Text as UTF-8 can hold it: a lone surrogate (valid in JSON) becomes "?"."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split()).strip(" .!")
