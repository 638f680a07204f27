"""Conversations: the engine's one entry point for transports (Slack, the terminal).

Every piece of text a leader sends goes through `receive`, which screens it for safety before
anything else happens to it, then routes it: a command (pause, stop, help...), an answer to the
current step, or the choice of a flow. Buttons come in through `start`, `choose` and
`nudge_answered`. The session is saved after every step.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from bot.engine import messages, sessions
from bot.engine.clock import utcnow
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.reflections import Answer, Event, Reflection, ReflectionStore
from bot.engine.rendering import prompt_context, render
from bot.engine.replies import Choice, FlowOffer, Question, Reply, Say, Signpost, Summary
from bot.engine.safety import Concern, screen
from bot.engine.sessions import Session, Turn
from bot.engine.signposts import Signposts
from bot.engine.supervisor_nudge import NudgePolicy

log = logging.getLogger(__name__)

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
        nudges: NudgePolicy | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.library = library
        self.store = store
        self.signposts = signposts
        self.nudges = nudges or NudgePolicy()
        self.clock = clock

    # ------------------------------------------------------------------ typed text

    def receive(self, person: Person, text: str) -> list[Reply]:
        """Anything a leader types, in a flow or not."""
        text = _storable(text[:MAX_INPUT])
        concern = screen(text)  # before anything else happens to the text
        replies: list[Reply] = []
        if concern is not None:
            replies.append(self._signpost(person, concern))
        session = self.store.load_session(person)
        word = _normalise(text)

        if session is not None and session.status == "active":
            flow = self.library.get(session.flow_id)
            if flow is None:  # the flow was removed since; nothing to continue
                self.store.drop_session(person)
                return [*replies, *self.offer(person)]
            replies += self._in_flow(person, flow, session, text, word, concern)
            return replies

        if word in messages.words("resume"):
            return [*replies, *self.resume(person)]
        if word in messages.words("help"):
            return [*replies, Say(messages.text("help_idle"))]
        if word in messages.words("pause") | messages.words("stop"):
            return [*replies, Say(messages.text("session.nothing_active"))]
        flow = self.library.find(text)
        if flow is not None:
            return [*replies, *self.start(person, flow.id)]
        if concern is not None:
            return replies
        return [*replies, *self.offer(person)]

    def _in_flow(
        self,
        person: Person,
        flow: Flow,
        session: Session,
        text: str,
        word: str,
        concern: Concern | None,
    ) -> list[Reply]:
        now = self.clock()
        if word in messages.words("pause"):
            return self.pause(person)
        if word in messages.words("stop"):
            return self.stop(person)
        if word in messages.words("help"):
            question = sessions.ask(flow, session, now=now, person=person)
            step = flow.step(session.step_id)
            context = prompt_context(flow, session.answers, person, now)
            extra = [Say(render(step.help, context))] if step.help else []
            helptext = messages.text("help", title=flow.title, position=question.position)
            return [Say(helptext), *extra, question]
        if session.signposted and word in messages.words("not_meant"):
            # One "that's not what I meant" does not switch the support off.
            return [
                Say(messages.text("safety.acknowledged")),
                Say(self.signposts.reminder),
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
        replies = self._advance(person, flow, turn)
        if concern is not None:
            replies.insert(0, Say(messages.text("safety.pause_offer")))
        return replies

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
            replies.append(sessions.ask(flow, current, now=self.clock(), person=person))
            return replies
        if current is not None:
            old = self.library.get(current.flow_id)
            title = old.title if old else current.flow_id
            replies.append(Say(messages.text("session.replaced", title=title)))
        turn = sessions.start(flow, now=self.clock(), person=person)
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
        turn = sessions.choose(flow, session, value, now=self.clock(), person=person)
        return self._advance(person, flow, turn)

    def nudge_answered(self, person: Person, *, followed: bool) -> None:
        """The leader clicked "Book a supervisor" (followed) or "Not now". Counted, no more."""
        event: Event = "nudge_followed" if followed else "nudge_dismissed"
        self.store.record(person, event, at=self.clock())

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
        return [Say(messages.text("session.paused"))]

    def resume(self, person: Person) -> list[Reply]:
        session = self.store.load_session(person)
        if session is None:
            return [Say(messages.text("session.nothing_paused"))]
        flow = self.library.get(session.flow_id)
        if flow is None:
            self.store.drop_session(person)
            return [Say(messages.text("session.nothing_paused"))]
        session = replace(session, status="active")
        self.store.save_session(person, session)
        replies: list[Reply] = [Say(messages.text("session.resumed", title=flow.title))]
        if session.signposted:
            replies.append(Say(self.signposts.reminder))
        replies.append(sessions.ask(flow, session, now=self.clock(), person=person))
        return replies

    def stop(self, person: Person) -> list[Reply]:
        if self.store.load_session(person) is None:
            return [Say(messages.text("session.nothing_active"))]
        self.store.drop_session(person)
        return [Say(messages.text("session.stopped"))]

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

    # ------------------------------------------------------------------ internals

    def _advance(self, person: Person, flow: Flow, turn: Turn) -> list[Reply]:
        replies = list(turn.replies)
        if not turn.finished:
            self.store.save_session(person, turn.session)
            if turn.session.signposted:
                replies.append(Say(self.signposts.reminder))
            return replies
        return replies + self._finish(person, flow, turn)

    def _finish(self, person: Person, flow: Flow, turn: Turn) -> list[Reply]:
        now = self.clock()
        session = turn.session
        summary = turn.summary or ""
        kept = sessions.kept_answers(flow, session)
        reflection = Reflection(
            flow_id=flow.id,
            started_at=session.started_at,
            finished_at=now,
            summary=summary,
            answers=tuple(
                Answer(step_id, flow.step(step_id).kind, value) for step_id, value in kept.items()
            ),
        )
        recent = self.store.reflections(person, limit=self.nudges.look_back)
        last_firm = self.store.last_event(person, "nudge_firm_shown")
        reflection_id = self.store.finish(person, reflection)
        nudge = self.nudges.after(
            flow=flow, session=session, recent=recent, last_firm=last_firm, now=now
        )
        self.store.record(person, "nudge_shown", at=now, flow_id=flow.id)
        if nudge.firm:
            self.store.record(person, "nudge_firm_shown", at=now, flow_id=flow.id)
        log.info("reflection finished", extra={"flow_id": flow.id})
        return [
            Summary(flow.id, flow.title, summary, reflection_id),
            Say(messages.text("session.finished")),
            nudge,
        ]

    def check_safety(self, person: Person, text: str) -> Signpost | None:
        """The safety screen, for text that does not go through `receive` (e.g. typed after a
        slash command): the signpost to show first, if the words call for one."""
        concern = screen(text[:MAX_INPUT])
        return self._signpost(person, concern) if concern is not None else None

    def _signpost(self, person: Person, concern: Concern) -> Signpost:
        """Record only that a signpost was shown, and keep support visible for the rest of the
        person's session (one "that's not what I meant" does not switch it off)."""
        self.store.record(person, "signpost_shown", at=self.clock())
        session = self.store.load_session(person)
        if session is not None and not session.signposted:
            self.store.save_session(person, replace(session, signposted=True))
        return self.signposts.signpost(concern)


def _storable(text: str) -> str:
    """Text as UTF-8 can hold it: a lone surrogate (valid in JSON) becomes "?"."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split()).strip(" .!")
