"""Finishing a reflection: what is kept, and what follows it.

When a flow ends, `Finishing.finish` keeps the reflection (the answers its steps say to keep,
which answer is the leader's next step, and what they said of the last one), then decides what
follows it:

- after a crisis card in the session, the crisis lines and the GP again (the closing card),
  never a pitch for booking supervision;
- otherwise, the flows the leader's answers point to, and the supervisor suggestion when the
  policy (bot.engine.supervisor_suggestion) says so, with its event recorded.

Also here: the leader's latest supervision agenda (for the Home tab's booking emails) and
"don't ask me about next steps", which takes effect as soon as it is chosen.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine import messages, sessions
from bot.engine.flows import Flow, FollowUpStep, ScaleStep
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.recall import settled_by, suggested_flows
from bot.engine.reflections import (
    Answer,
    Reflection,
    ReflectionStore,
    ScaleMark,
    StoredReflection,
)
from bot.engine.replies import Choice, FlowOffer, Reply, Say, Summary
from bot.engine.sessions import Session, Turn
from bot.engine.supervisor_suggestion import SuggestionHistory, SuggestionPolicy
from bot.engine.support import Support

log = logging.getLogger(__name__)

#: How far back the Home tab looks for the leader's latest supervision agenda.
RECENT_FOR_AGENDA = 20


@dataclass
class Finishing:
    """The end of a flow, and what the conversation says after it."""

    store: ReflectionStore
    library: FlowLibrary
    support: Support
    suggestions: SuggestionPolicy
    clock: Callable[[], dt.datetime]

    def finish(self, person: Person, flow: Flow, turn: Turn) -> list[Reply]:
        """Keep the finished reflection (and drop the session), then say what follows."""
        now = self.clock()
        session = turn.session
        summary = turn.summary or ""
        kept = sessions.kept_answers(flow, session)
        next_step = next((s.id for s in flow.steps if s.ask_next_time), None)
        reflection = Reflection(
            flow_id=flow.id,
            started_at=session.started_at,
            finished_at=now,
            summary=summary,
            answers=tuple(_answer(flow, step_id, value) for step_id, value in kept.items()),
            next_step=next_step if next_step in kept else None,
            follow_up=settled_by(flow, session),
        )
        recent = self.store.reflections(person, limit=self.suggestions.look_back)
        history = SuggestionHistory(
            last_shown=self.store.last_event(person, "nudge_shown"),
            last_firm=self.store.last_event(person, "nudge_firm_shown"),
            last_not_now=self.store.last_event(person, "nudge_dismissed"),
        )
        agenda = summary if flow.area == "prepare" else self._latest_agenda(recent)
        reflection_id = self.store.finish(person, reflection)
        log.info("reflection finished", extra={"flow_id": flow.id})
        replies: list[Reply] = [
            Summary(flow.id, flow.title, summary, reflection_id),
            Say(messages.text("session.finished")),
        ]
        if session.signposted:
            # After the crisis card, the close repeats the crisis lines, not a booking pitch.
            return [*replies, self.support.closing()]
        suggestion = self.suggestions.after(
            flow=flow,
            session=session,
            recent=recent,
            history=history,
            now=now,
            crisis_shown=session.signposted,
            agenda=agenda,
        )
        if suggestion is not None:
            self.store.record(person, "nudge_shown", at=now, flow_id=flow.id)
            if suggestion.firm:
                self.store.record(person, "nudge_firm_shown", at=now, flow_id=flow.id)
        offered = [
            Choice(found.id, found.title)
            for flow_id in suggested_flows(flow, session)
            if (found := self.library.get(flow_id)) is not None
        ]
        if offered:
            replies.append(FlowOffer(messages.text("suggested_flow"), tuple(offered)))
        if suggestion is not None:
            replies.append(suggestion)
        return replies

    def follow_up_choice(self, person: Person, flow: Flow, session: Session) -> None:
        """ "Don't ask me about next steps" takes effect at once, even if the flow is stopped."""
        chose_stop = any(
            isinstance(step, FollowUpStep) and session.answers.get(step.id) == "stop_asking"
            for step in flow.steps
        )
        if chose_stop and self.store.follow_up_wanted(person):
            self.store.want_follow_up(person, False)

    def agenda(self, person: Person) -> str | None:
        """The leader's latest supervision agenda (for booking from the Home tab)."""
        return self._latest_agenda(self.store.reflections(person, limit=RECENT_FOR_AGENDA))

    def _latest_agenda(self, recent: list[StoredReflection]) -> str | None:
        """The leader's latest supervision agenda among recent reflections, for the booking
        email."""
        for reflection in recent:
            flow = self.library.get(reflection.flow_id)
            if flow is not None and flow.area == "prepare":
                return reflection.summary
        return None


def _answer(flow: Flow, step_id: str, value: object) -> Answer:
    step = flow.step(step_id)
    mark = ScaleMark(step.min, step.max, step.heavy) if isinstance(step, ScaleStep) else None
    return Answer(step_id, step.kind, value, mark)
