"""When, and in what words, to suggest booking a human supervisor after a reflection.

A supervisor outside the leader's line management is the real thing; Reflect points to it.
But a suggestion after every reflection is noise, so the policy is bounded:

- never after a crisis card: the crisis closing is the safety path's, and a pitch there would
  be tone-deaf (`crisis_shown`, which the conversation passes in);
- never for a while after the leader said "Not now" (`quiet_after_not_now`);
- a gentle suggestion at most once per `every`, except after preparing for supervision, where
  the booking details are the point;
- none after a flow whose `suggest_supervisor` is `when_heavy` (went-well) unless there are
  signs of a heavy load;
- a firm suggestion when there are signs, at most once per `firm_every`:
  * heavy scores: this reflection and the recent ones (within `recent_within`, at most
    `look_back` of them) include at least `heavy_needed` with a score in the heaviest part of
    its scale (`heavy_fraction`). Each scale says which end is heavy; each kept scale answer
    says how it reads (bot.engine.reflections.ScaleMark), so old answers are read as they
    were given;
  * the leader saying they feel stuck, in their own words or through an option whose value
    says "stuck".

The words live in bot/engine/messages.yaml under `suggestion:`, one gentle wording per kind
of flow.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from bot.engine import messages
from bot.engine.flows import ChoiceStep, Flow, MultiChoiceStep, ScaleStep
from bot.engine.reflections import OLD_SCALE, ScaleMark, StoredReflection
from bot.engine.replies import Supervisor, SupervisorSuggestion
from bot.engine.safety import normalise
from bot.engine.sessions import Session

Reason = Literal["stuck", "heavy_scores"]

#: Words just before a "stuck" phrase that turn it around ("not stuck", "no longer stuck").
_NOT_STUCK = frozenset({"not", "no", "never", "longer", "dont", "didnt", "isnt", "arent", "less"})
#: Kinds of flow with wording of their own under `suggestion.gentle`; others use `default`.
_WORDED = frozenset({"debrief", "checkin", "prepare", "model"})


@dataclass(frozen=True)
class SuggestionHistory:
    """When the person last saw a suggestion, a firm one, and said "Not now" (None: never)."""

    last_shown: dt.datetime | None = None
    last_firm: dt.datetime | None = None
    last_not_now: dt.datetime | None = None


@dataclass(frozen=True)
class SuggestionPolicy:
    supervisors: tuple[Supervisor, ...] = ()
    #: A gentle suggestion at most once in this period.
    every: dt.timedelta = dt.timedelta(days=7)
    #: A firm suggestion at most once in this period.
    firm_every: dt.timedelta = dt.timedelta(days=14)
    #: After "Not now", nothing for this long.
    quiet_after_not_now: dt.timedelta = dt.timedelta(days=21)
    #: How many earlier reflections to look back over (the conversation fetches this many).
    look_back: int = 3
    #: How many heavy reflections (this one included) are a sign of a heavy load.
    heavy_needed: int = 2
    #: Earlier reflections older than this do not count.
    recent_within: dt.timedelta = dt.timedelta(days=28)
    #: A score in this heaviest part of its scale is heavy (1/3: 4 or 5 on 1..5, heavy at 5).
    heavy_fraction: float = 1 / 3

    def __post_init__(self) -> None:
        problems = []
        for name in ("every", "firm_every", "quiet_after_not_now"):
            if getattr(self, name) < dt.timedelta(0):
                problems.append(f"{name} must not be negative")
        if self.look_back < 0:
            problems.append("look_back must not be negative")
        if not 1 <= self.heavy_needed <= self.look_back + 1:
            problems.append("heavy_needed must be between 1 and look_back + 1")
        if not 0 < self.heavy_fraction < 1:
            problems.append("heavy_fraction must be between 0 and 1")
        if problems:
            raise ValueError("Supervisor suggestion settings: " + "; ".join(problems) + ".")

    def after(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        history: SuggestionHistory,
        now: dt.datetime,
        crisis_shown: bool,
        agenda: str | None = None,
    ) -> SupervisorSuggestion | None:
        """The suggestion that ends a finished flow, or None. `recent` are the leader's
        earlier reflections, newest first; `agenda` their latest supervision agenda, for the
        booking email."""
        if crisis_shown:
            return None
        if _within(history.last_not_now, self.quiet_after_not_now, now):
            return None
        signs = self.reasons(flow=flow, session=session, recent=recent, now=now)
        if signs and not _within(history.last_firm, self.firm_every, now):
            key = "suggestion.firm" if self.supervisors else "suggestion.firm_general"
            return SupervisorSuggestion(
                text=messages.text(key), firm=True, supervisors=self.supervisors, agenda=agenda
            )
        if flow.suggest_supervisor == "when_heavy" and not signs:
            return None
        if flow.area != "prepare" and _within(history.last_shown, self.every, now):
            return None
        kind: str = flow.area if flow.area in _WORDED else "default"
        if not self.supervisors:
            kind = "general"
        return SupervisorSuggestion(
            text=messages.text(f"suggestion.gentle.{kind}"),
            firm=False,
            supervisors=self.supervisors,
            agenda=agenda,
        )

    def reasons(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        now: dt.datetime,
    ) -> frozenset[Reason]:
        """Signs of a heavy load, if any (empty when there are none)."""
        found: set[Reason] = set()
        if _stuck_in(flow, session.answers):
            found.add("stuck")
        if self._heavy_lately(flow=flow, session=session, recent=recent, now=now):
            found.add("heavy_scores")
        return frozenset(found)

    def _heavy_lately(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        now: dt.datetime,
    ) -> bool:
        marks = {
            step.id: ScaleMark(step.min, step.max, step.heavy)
            for step in flow.steps
            if isinstance(step, ScaleStep)
        }
        now_answers = [(marks.get(step_id), value) for step_id, value in session.answers.items()]
        heavy = int(self._any_heavy(now_answers))
        since = _aware(now) - self.recent_within
        earlier = [r for r in recent if _aware(r.finished_at) >= since][: self.look_back]
        for reflection in earlier:
            answers = [
                (a.scale or OLD_SCALE, a.value) for a in reflection.answers if a.kind == "scale"
            ]
            heavy += self._any_heavy(answers)
        return heavy >= self.heavy_needed

    def _any_heavy(self, answers: Iterable[tuple[ScaleMark | None, Any]]) -> bool:
        for mark, value in answers:
            if mark is None or not isinstance(value, int) or isinstance(value, bool):
                continue
            if mark.min <= value <= mark.max and mark.heaviness(value) >= 1 - self.heavy_fraction:
                return True
        return False


def says_stuck(text: str) -> bool:
    """Whether words say the leader feels stuck ("I feel stuck", "going round in circles")."""
    if normalise(text) == "stuck":
        return True
    for clause in normalise(text).split(" . "):
        for match in _stuck_pattern().finditer(clause):
            before = clause[: match.start()].split()[-3:]
            if not _NOT_STUCK.intersection(before):
                return True
    return False


@cache
def _stuck_pattern() -> re.Pattern[str]:
    phrases = [normalise(line) for line in messages.text("suggestion.stuck_words").splitlines()]
    alternatives = "|".join(re.escape(phrase) for phrase in phrases if phrase)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")


def _stuck_in(flow: Flow, answers: dict[str, Any]) -> bool:
    """Free-text answers in the leader's words; chosen options by their value ("stuck")."""
    for step in flow.steps:
        value = answers.get(step.id)
        if isinstance(step, ChoiceStep | MultiChoiceStep):
            chosen = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and "stuck" in normalise(v).split() for v in chosen):
                return True
        elif isinstance(value, str) and says_stuck(value):
            return True
    return False


def _within(moment: dt.datetime | None, period: dt.timedelta, now: dt.datetime) -> bool:
    return moment is not None and _aware(now) - _aware(moment) < period


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
