"""What the engine says back: transport-neutral replies that Slack and the terminal render.

The engine answers every input with a list of replies, in the order they should be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Scale:
    """A scale, low to high, with a word for each point where the flow gives one."""

    min: int
    max: int
    min_label: str
    max_label: str
    points: tuple[str | None, ...] = ()
    heavy: Literal["min", "max"] = "max"

    def word(self, value: int) -> str | None:
        if self.points and self.min <= value <= self.max:
            return self.points[value - self.min]
        return None


@dataclass(frozen=True)
class Say:
    """A plain message: an intro, a confirmation, help."""

    text: str
    kind: Literal["say"] = "say"


@dataclass(frozen=True)
class Question:
    """A step, asked. `reason` is set when the step is asked again after an answer it could
    not take (out of range, empty, unknown option)."""

    flow_id: str
    flow_title: str
    step_id: str
    step_kind: Literal["text", "choice", "multi", "scale", "info", "follow_up"]
    text: str
    position: int
    choices: tuple[Choice, ...] = ()
    scale: Scale | None = None
    optional: bool = False
    can_go_back: bool = False
    reason: str | None = None
    kind: Literal["question"] = "question"


@dataclass(frozen=True)
class FlowOffer:
    """An offer of flows to choose from, the first being the suggested one."""

    text: str
    flows: tuple[Choice, ...]
    kind: Literal["offer"] = "offer"


@dataclass(frozen=True)
class SupervisorSuggestion:
    """A suggestion to book a human supervisor, outside the leader's line management.
    `agenda` is the leader's latest supervision agenda, to fill in a booking email."""

    text: str
    firm: bool
    supervisors: tuple[Supervisor, ...] = ()
    agenda: str | None = None
    kind: Literal["suggestion"] = "suggestion"


@dataclass(frozen=True)
class Supervisor:
    """One entry of the supervisor directory (config/supervisors.yaml): a person or service
    outside the leader's line management, and what a leader needs to know before booking."""

    name: str
    for_whom: str
    sectors: tuple[str, ...] = ()
    nations: tuple[str, ...] = ()
    cost: str = ""
    format: str = ""
    eligibility: str = ""
    wait: str = ""
    confidentiality: str = ""
    booking_url: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Summary:
    """A finished reflection: the rendered summary, to keep or copy."""

    flow_id: str
    flow_title: str
    text: str
    reflection_id: str | None
    kind: Literal["summary"] = "summary"


@dataclass(frozen=True)
class Signpost:
    """Support: the crisis card (shown at once), the gentle card (someone else at risk), or the
    closing card (the crisis lines again, when a conversation that showed the crisis card
    ends)."""

    text: str
    resources: tuple[Resource, ...]
    offer_pause: bool = True
    gentle: bool = False
    closing: bool = False
    kind: Literal["signpost"] = "signpost"


@dataclass(frozen=True)
class CheckIn:
    """The direct question, asked when the screen found words close to risk that it cannot
    confirm. `choices` are yes, not_sure and no; anything but no shows the crisis card."""

    text: str
    choices: tuple[Choice, ...]
    reason: str | None = None
    kind: Literal["check_in"] = "check_in"


@dataclass(frozen=True)
class AfterCrisis:
    """What to do next, offered after the crisis card instead of the next question: carry_on,
    stop (pause, keeping the answers) or numbers (the card again). `reminder` is the support
    line, shown here once rather than under every question (empty when the offer is repeated)."""

    text: str
    reminder: str
    choices: tuple[Choice, ...]
    reason: str | None = None
    kind: Literal["after_crisis"] = "after_crisis"


@dataclass(frozen=True)
class Resource:
    name: str
    how: str
    when: str = ""


Reply = (
    Say | Question | FlowOffer | SupervisorSuggestion | Summary | Signpost | CheckIn | AfterCrisis
)
