"""When and how firmly to suggest booking a human supervisor.

Every finished flow ends with a gentle offer. The offer becomes firm when answers suggest a
heavy load: low scale scores across recent reflections, a safety signpost in this session, or
the leader saying they feel stuck. A firm nudge appears at most once per configured period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.engine import messages
from bot.engine.flows import Flow, ScaleStep
from bot.engine.reflections import StoredReflection
from bot.engine.replies import Supervisor, SupervisorNudge
from bot.engine.sessions import Session

STUCK_WORDS = ("stuck", "trapped", "going round in circles", "can't see a way", "cant see a way")


@dataclass(frozen=True)
class NudgePolicy:
    supervisors: tuple[Supervisor, ...] = ()
    firm_every: dt.timedelta = dt.timedelta(days=14)
    #: How many recent reflections to look back over, and how many must be low.
    look_back: int = 3
    low_needed: int = 2

    def after(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        last_firm: dt.datetime | None,
        now: dt.datetime,
    ) -> SupervisorNudge:
        heavy = (
            session.signposted
            or _says_stuck(session.answers)
            or self._low_lately(flow, session, recent)
        )
        allowed = last_firm is None or now - last_firm >= self.firm_every
        firm = heavy and allowed
        return SupervisorNudge(
            text=messages.text("nudge.firm" if firm else "nudge.gentle"),
            firm=firm,
            supervisors=self.supervisors,
        )

    def _low_lately(self, flow: Flow, session: Session, recent: Sequence[StoredReflection]) -> bool:
        lows = [_is_low_now(flow, session)]
        lows += [_is_low(reflection) for reflection in recent[: self.look_back - 1]]
        return sum(lows) >= self.low_needed


def _says_stuck(answers: dict[str, Any]) -> bool:
    for value in answers.values():
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and any(word in text.lower() for word in STUCK_WORDS):
                return True
    return False


def _is_low_now(flow: Flow, session: Session) -> bool:
    for step in flow.steps:
        if isinstance(step, ScaleStep) and isinstance(session.answers.get(step.id), int):
            span = step.max - step.min
            if session.answers[step.id] <= step.min + span / 3:
                return True
    return False


def _is_low(reflection: StoredReflection) -> bool:
    # Scale answers are kept as numbers; without the flow at hand, treat the lowest two points
    # of a 1..5 scale as low.
    return any(
        a.kind == "scale" and isinstance(a.value, int) and a.value <= 2 for a in reflection.answers
    )


def load_supervisors(path: Path) -> tuple[Supervisor, ...]:
    """Read the supervisors file (config/supervisors.yaml)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    default_url = data.get("booking_url")
    people = []
    for item in data.get("supervisors", []):
        people.append(
            Supervisor(
                name=str(item["name"]),
                supports=str(item.get("supports", "")),
                booking_url=item.get("booking_url") or (None if item.get("email") else default_url),
                email=item.get("email"),
            )
        )
    return tuple(people)
