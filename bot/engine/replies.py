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
    min: int
    max: int
    min_label: str
    max_label: str


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
    step_kind: Literal["text", "choice", "multi", "scale", "info"]
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
class SupervisorNudge:
    """An offer to book a human supervisor, outside the leader's line management."""

    text: str
    firm: bool
    supervisors: tuple[Supervisor, ...] = ()
    kind: Literal["nudge"] = "nudge"


@dataclass(frozen=True)
class Supervisor:
    name: str
    supports: str
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


Reply = Say | Question | FlowOffer | SupervisorNudge | Summary | Signpost | CheckIn | AfterCrisis
