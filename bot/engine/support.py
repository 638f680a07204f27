"""How the conversation answers what the safety screen found.

Four outcomes, each with its own card:

- crisis: the crisis card at once. In a reflection, the next question is not asked as if
  nothing happened: the person is offered "I'm safe, carry on", "Stop here" (a pause that keeps
  the answers) or the numbers again. The support line is shown once, with that offer, and again
  when the conversation ends (the closing card, instead of suggesting supervision);
- check_in: words close to risk that the screen cannot confirm. A direct question that names
  suicide and self-harm, with Yes / Not sure / No. Anything but No shows the crisis card; No
  carries on, and the text that led to the question is then taken as usual;
- others: someone else at risk (a patient, pupil, colleague, relative). The gentle card, at most
  once per conversation. It does not put the session into crisis mode;
- nothing.

Only that something was shown or asked is recorded (content-free events), never the text. The
text that led to a check-in is kept, sealed like every session, until the person answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from bot.engine import messages
from bot.engine.people import Person
from bot.engine.reflections import ReflectionStore
from bot.engine.replies import AfterCrisis, CheckIn, Choice, Reply, Signpost
from bot.engine.safety import Concern
from bot.engine.sessions import Session
from bot.engine.signposts import Signposts

CheckInAnswer = Literal["yes", "not_sure", "no"]
NextStep = Literal["carry_on", "stop", "numbers"]

CHECK_IN_ANSWERS: tuple[CheckInAnswer, ...] = ("yes", "not_sure", "no")
NEXT_STEPS: tuple[NextStep, ...] = ("carry_on", "stop", "numbers")

#: Outside a reflection, a check-in question waits this long for a typed answer.
CHECK_IN_WAITS = dt.timedelta(minutes=30)
#: The gentle card is shown at most once per conversation: once in a session, and not again
#: within this long outside one.
CONVERSATION_GAP = dt.timedelta(hours=2)


@dataclass(frozen=True)
class Screened:
    """What the screen's finding calls for: `replies` to show first and whether the text goes
    on to be handled as usual (`go_on`; False when a question was asked or the crisis card
    shown)."""

    replies: list[Reply]
    go_on: bool


NOTHING = Screened([], go_on=True)


def check_in_question(*, again: bool = False) -> CheckIn:
    choices = tuple(
        Choice(answer, messages.text(f"safety.check_in_{answer}")) for answer in CHECK_IN_ANSWERS
    )
    reason = messages.text("safety.check_in_again") if again else None
    return CheckIn(messages.text("safety.check_in"), choices, reason=reason)


def typed_no(word: str) -> bool:
    """Whether a typed answer to the check-in is No (commas and stops ignored)."""
    return word.replace(",", "").strip() in messages.words("check_in_no")


def next_step_typed(word: str) -> NextStep | None:
    """What a typed answer to the after-crisis offer chooses, if anything."""
    word = word.replace(",", "").strip()
    for step in NEXT_STEPS:
        key = {"carry_on": "carry_on", "stop": "stop_here", "numbers": "numbers"}[step]
        if word in messages.words(key):
            return step
    return None


@dataclass(frozen=True)
class Support:
    """The cards and questions for each outcome, and the state they leave in a session."""

    store: ReflectionStore
    signposts: Signposts
    clock: Callable[[], dt.datetime]

    def answer(
        self, person: Person, concern: Concern | None, session: Session | None, *, held: str | None
    ) -> Screened:
        """The replies for what the screen found. `session` is the person's session, if any
        (active or paused); `held` is the text to take as usual if a check-in is answered No."""
        if concern is None:
            return NOTHING
        if concern.outcome == "others":
            return Screened(self.gentle(person, session), go_on=True)
        if concern.outcome == "check_in":
            return Screened(self.check_in(person, session, held=held), go_on=False)
        return Screened(self.crisis(person, session), go_on=False)

    # ------------------------------------------------------------------ the four outcomes

    def crisis(self, person: Person, session: Session | None) -> list[Reply]:
        """The crisis card. In an active reflection, the offer of what to do next instead of
        the next question; a paused one is marked, so that it ends with the crisis lines."""
        self.store.record(person, "signpost_shown", at=self.clock())
        card = self.signposts.signpost(Concern("crisis"))
        if session is None:
            return [card]
        if session.status != "active":
            self._save(person, replace(session, signposted=True, waiting=None, held=None))
            return [card]
        self._save(person, replace(session, signposted=True, waiting="after_crisis", held=None))
        return [card, self.after_crisis_offer()]

    def check_in(self, person: Person, session: Session | None, *, held: str | None) -> list[Reply]:
        """The direct question. Asking is recorded as an event, with no text."""
        self.store.record(person, "check_in_asked", at=self.clock())
        if session is not None and session.status == "active":
            self._save(person, replace(session, waiting="check_in", held=held))
        return [check_in_question()]

    def gentle(self, person: Person, session: Session | None) -> list[Reply]:
        """The gentle card, unless it was already shown in this conversation. Recorded under
        its own event name: it is not a crisis and does not make the supervisor offer firm."""
        now = self.clock()
        since = now - CONVERSATION_GAP
        if session is not None:
            since = min(since, session.started_at)
        last = self.store.last_event(person, "gentle_signpost_shown")
        if last is not None and _aware(last) >= _aware(since):
            return []
        self.store.record(person, "gentle_signpost_shown", at=now)
        return [self.signposts.signpost(Concern("others"))]

    # ------------------------------------------------------------------ what follows

    def after_crisis_offer(self, *, again: bool = False) -> AfterCrisis:
        labels = {"carry_on": "safe_carry_on", "stop": "stop_here", "numbers": "numbers"}
        choices = tuple(
            Choice(step, messages.text(f"safety.{labels[step]}")) for step in NEXT_STEPS
        )
        if again:  # the reminder was shown with the card: not again under every message
            return AfterCrisis(
                messages.text("safety.after_crisis"),
                "",
                choices,
                reason=messages.text("safety.after_crisis_again"),
            )
        return AfterCrisis(messages.text("safety.after_crisis"), self.signposts.reminder, choices)

    def closing(self) -> Signpost:
        """The crisis lines and the GP again, when a conversation that showed the crisis card
        ends (in place of the suggestion to book supervision)."""
        card = self.signposts.signpost(Concern("crisis"))
        text = f"{messages.text('safety.closing')}\n{self.signposts.reminder}"
        return replace(card, text=text, closing=True, offer_pause=False)

    def check_in_waiting(self, person: Person, session: Session | None) -> bool:
        """Whether a check-in question is waiting for the person's answer: in their active
        reflection, or (outside one) asked in the last `CHECK_IN_WAITS` and not yet answered."""
        if session is not None and session.status == "active":
            return session.waiting == "check_in"
        asked = self.store.last_event(person, "check_in_asked")
        if asked is None or _aware(self.clock()) - _aware(asked) > CHECK_IN_WAITS:
            return False
        answered = self.store.last_event(person, "check_in_answered")
        return answered is None or _aware(answered) < _aware(asked)

    def answered(self, person: Person) -> None:
        """The check-in was answered (which answer is not recorded)."""
        self.store.record(person, "check_in_answered", at=self.clock())

    def _save(self, person: Person, session: Session) -> None:
        self.store.save_session(person, session)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
