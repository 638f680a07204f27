"""When and how firmly to suggest booking a human supervisor.

Every finished flow ends with a gentle offer of a supervisor outside the leader's line
management. The offer becomes firm when answers suggest a heavy load:

- low scale scores: this reflection and the recent ones (within `recent_within`, at most
  `look_back` of them) include at least `low_needed` with a score in the bottom part of its
  scale (`low_fraction`). Scales put the heavy end at their minimum ("1 very heavy .. 5 light");
  the flow's own bounds are used where known, 1..5 otherwise;
- a safety signpost shown during this session;
- the leader saying they feel stuck, in their own words or through an option they chose
  (one whose value says "stuck").

A firm nudge appears at most once per `firm_every`; in between, the offer stays gentle. The
words (and what counts as "stuck") live in bot/engine/messages.yaml under `nudge:`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from bot.engine import messages
from bot.engine.flows import ChoiceStep, Flow, MultiChoiceStep, ScaleStep
from bot.engine.reflections import StoredReflection
from bot.engine.replies import Supervisor, SupervisorNudge
from bot.engine.safety import normalise
from bot.engine.sessions import Session

Reason = Literal["signposted", "stuck", "low_scores"]

#: Scale bounds assumed for an earlier reflection whose flow is not at hand.
DEFAULT_SCALE = (1, 5)
#: Words just before a "stuck" phrase that turn it around ("not stuck", "no longer stuck").
_NOT_STUCK = frozenset({"not", "no", "never", "longer", "dont", "didnt", "isnt", "arent", "less"})


@dataclass(frozen=True)
class NudgePolicy:
    supervisors: tuple[Supervisor, ...] = ()
    #: A firm nudge at most once in this period.
    firm_every: dt.timedelta = dt.timedelta(days=14)
    #: How many earlier reflections to look back over (the conversation fetches this many).
    look_back: int = 3
    #: How many low reflections (this one included) make the load heavy.
    low_needed: int = 2
    #: Earlier reflections older than this do not count.
    recent_within: dt.timedelta = dt.timedelta(days=28)
    #: A score in this bottom part of its scale is low (1/3: 1 or 2 on a 1..5 scale).
    low_fraction: float = 1 / 3

    def __post_init__(self) -> None:
        problems = []
        if self.firm_every < dt.timedelta(0):
            problems.append("firm_every must not be negative")
        if self.look_back < 0:
            problems.append("look_back must not be negative")
        if not 1 <= self.low_needed <= self.look_back + 1:
            problems.append("low_needed must be between 1 and look_back + 1")
        if not 0 < self.low_fraction < 1:
            problems.append("low_fraction must be between 0 and 1")
        if problems:
            raise ValueError("Supervisor nudge settings: " + "; ".join(problems) + ".")

    def after(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        last_firm: dt.datetime | None,
        now: dt.datetime,
    ) -> SupervisorNudge:
        """The offer that ends a finished flow. `recent` are the leader's earlier reflections,
        newest first; `last_firm` is when they last saw a firm nudge."""
        heavy = bool(self.reasons(flow=flow, session=session, recent=recent, now=now))
        firm = heavy and self.firm_allowed(last_firm=last_firm, now=now)
        tone = "firm" if firm else "gentle"
        key = f"nudge.{tone}" if self.supervisors else f"nudge.{tone}_general"
        return SupervisorNudge(text=messages.text(key), firm=firm, supervisors=self.supervisors)

    def reasons(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        now: dt.datetime,
    ) -> frozenset[Reason]:
        """Why the load looks heavy, if it does (empty when it does not)."""
        found: set[Reason] = set()
        if session.signposted:
            found.add("signposted")
        if _stuck_in(flow, session.answers):
            found.add("stuck")
        if self._low_lately(flow=flow, session=session, recent=recent, now=now):
            found.add("low_scores")
        return frozenset(found)

    def firm_allowed(self, *, last_firm: dt.datetime | None, now: dt.datetime) -> bool:
        """Whether a firm nudge may be shown now, given when the last one was."""
        if last_firm is None:
            return True
        return _aware(now) - _aware(last_firm) >= self.firm_every

    def _low_lately(
        self,
        *,
        flow: Flow,
        session: Session,
        recent: Sequence[StoredReflection],
        now: dt.datetime,
    ) -> bool:
        scales = {
            step.id: (step.min, step.max) for step in flow.steps if isinstance(step, ScaleStep)
        }
        lows = int(self._any_low(session.answers.items(), scales))
        since = _aware(now) - self.recent_within
        earlier = [r for r in recent if _aware(r.finished_at) >= since][: self.look_back]
        for reflection in earlier:
            own = scales if reflection.flow_id == flow.id else {}
            answers = ((a.step_id, a.value) for a in reflection.answers if a.kind == "scale")
            lows += self._any_low(answers, own, assume_default=True)
        return lows >= self.low_needed

    def _any_low(
        self,
        answers: Iterable[tuple[str, Any]],
        scales: dict[str, tuple[int, int]],
        *,
        assume_default: bool = False,
    ) -> bool:
        for step_id, value in answers:
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            bounds = scales.get(step_id) or (DEFAULT_SCALE if assume_default else None)
            if bounds is None:
                continue
            low, high = bounds
            if low <= value <= high and value <= low + (high - low) * self.low_fraction:
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
    phrases = [normalise(line) for line in messages.text("nudge.stuck_words").splitlines()]
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


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------- the supervisors file


class SupervisorsError(ValueError):
    """The supervisors file cannot be used; the message lists every problem."""


_FILE_KEYS = frozenset({"booking_url", "email", "supervisors"})
_PERSON_KEYS = frozenset({"name", "supports", "booking_url", "email"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def load_supervisors(path: Path) -> tuple[Supervisor, ...]:
    """Read and check the supervisors file (config/supervisors.yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SupervisorsError(f"{path}: cannot read the supervisors file ({error}).") from error
    except yaml.YAMLError as error:
        raise SupervisorsError(f"{path}: not valid YAML ({error}).") from error
    return parse_supervisors(data, source=str(path))


def parse_supervisors(data: Any, *, source: str = "supervisors") -> tuple[Supervisor, ...]:
    """Check supervisors already read from YAML, reporting every problem at once."""
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise SupervisorsError(f"{source}: expected a mapping with a `supervisors` list.")
    problems = [f"unknown key {key!r}" for key in sorted(set(data) - _FILE_KEYS)]
    default_url = _url(data.get("booking_url"), where="booking_url", problems=problems)
    default_email = _email(data.get("email"), where="email", problems=problems)
    listed = data.get("supervisors") or []
    if not isinstance(listed, list):
        problems.append("supervisors: expected a list")
        listed = []
    people: list[Supervisor] = []
    seen: set[str] = set()
    for number, item in enumerate(listed, start=1):
        where = f"supervisors, item {number}"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected name, supports and a booking_url or email")
            continue
        problems.extend(f"{where}: unknown key {key!r}" for key in sorted(set(item) - _PERSON_KEYS))
        name = _required(item.get("name"), where=f"{where}: name", problems=problems)
        supports = _required(item.get("supports"), where=f"{where}: supports", problems=problems)
        url = _url(item.get("booking_url"), where=f"{where}: booking_url", problems=problems)
        email = _email(item.get("email"), where=f"{where}: email", problems=problems)
        if name.casefold() in seen:
            problems.append(f"{where}: {name!r} is listed twice")
        seen.add(name.casefold())
        if not (url or email):
            url, email = default_url, default_email
        if not (url or email):
            problems.append(f"{where}: give a booking_url or an email, so leaders can book")
        people.append(Supervisor(name=name, supports=supports, booking_url=url, email=email))
    if problems:
        raise SupervisorsError(
            f"{source}: the supervisors file has problems:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    return tuple(people)


def _required(raw: Any, *, where: str, problems: list[str]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where} is required")
        return ""
    return raw.strip()


def _url(raw: Any, *, where: str, problems: list[str]) -> str | None:
    if raw is None or raw == "":
        return None
    parts = urlsplit(str(raw).strip())
    if not isinstance(raw, str) or parts.scheme not in {"http", "https"} or not parts.netloc:
        problems.append(f"{where}: {raw!r} is not a web address (https://...)")
        return None
    return raw.strip()


def _email(raw: Any, *, where: str, problems: list[str]) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _EMAIL.match(raw.strip()):
        problems.append(f"{where}: {raw!r} is not an email address")
        return None
    return raw.strip()
