"""The flow format: what a reflective flow is, as typed models.

A flow is data. It is written in YAML (one flow per file, in `flows/`), loaded by
`bot.engine.authoring.loading`, and walked by `bot.engine.sessions`. These models are the single
source of truth for the format: `flows/schema.json` is generated from them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1

#: The seven areas of leadership supervision, and the general kinds of flow.
Area = Literal[
    "self",
    "staff",
    "stakeholders",
    "relationships",
    "work",
    "environment",
    "context",
    "debrief",
    "checkin",
    "model",
    "prepare",
]
AREAS: tuple[str, ...] = get_args(Area)

#: Where a step may go instead of another step: the end of the flow.
END = "end"

#: Data minimisation, per step. `yes`: the answer is kept (encrypted). `summary-only`: the
#: answer is not kept on its own, only as far as the summary quotes it. `never`: the answer is
#: used during the conversation (branching, prompts) and then discarded; the summary may not
#: quote it.
StorePolicy = Literal["yes", "summary-only", "never"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One answer a choice or multi-choice step offers."""

    value: str = Field(min_length=1, max_length=75, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    label: str = Field(min_length=1, max_length=75)
    suggests: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="A flow to offer (as a button) when this option was chosen and the flow "
        "has ended. Summaries keep no instructions; this is how a flow suggests another.",
    )

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value: Any) -> Any:
        # YAML reads `value: 3` as a number and `value: yes` as a boolean; both are meant as text.
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int | float):
            return str(value)
        return value


class ScaleLabels(_Strict):
    min: str = Field(min_length=1, max_length=40)
    max: str = Field(min_length=1, max_length=40)


#: Which end of a scale is the heavy one (the load, the distress, how much it is still with
#: the leader). Every built-in scale runs low to high, "how much", so its heavy end is `max`.
HeavyEnd = Literal["min", "max"]


class Branch(_Strict):
    """`{if: "energy <= 2", then: restore}`: go to `then` when the condition holds."""

    when: str = Field(alias="if", min_length=1)
    then: str = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Otherwise(_Strict):
    """`{else: work}`: where to go when no condition before it held."""

    otherwise: str = Field(alias="else", min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Route = Branch | Otherwise


class _StepBase(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    prompt: str = Field(min_length=1, description="Jinja2 template shown to the leader.")
    optional: bool = False
    store: StorePolicy = "yes"
    help: str | None = Field(default=None, description="Shown when the leader types 'help'.")
    ask_next_time: bool = Field(
        default=False,
        description="This answer is the leader's next step: next time, Reflect asks how it "
        "went (a text step kept with store: yes; one per flow).",
    )
    next: list[Route] | str | None = Field(
        default=None,
        description="Where to go after this step: a step id, 'end', or a list of branches. "
        "Omitted: the following step.",
    )

    @field_validator("store", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        # PyYAML reads the bare word `yes` as True (YAML 1.1); accept what authors mean.
        if value is True:
            return "yes"
        if value is False:
            return "never"
        return value


class TextStep(_StepBase):
    kind: Literal["text"]
    max_length: int = Field(default=40000, ge=1, le=40000)


class ChoiceStep(_StepBase):
    kind: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=25)


class MultiChoiceStep(_StepBase):
    kind: Literal["multi"]
    options: list[Option] = Field(min_length=2, max_length=25)
    max_choices: int | None = Field(default=None, ge=1)


class ScaleStep(_StepBase):
    kind: Literal["scale"]
    min: int = 1
    max: int = 5
    heavy: HeavyEnd = Field(
        description="Which end is heavy: max (more is heavier, the usual way) or min. "
        "Required, so that no score can be read the wrong way round."
    )
    labels: ScaleLabels
    points: list[str] | None = Field(
        default=None,
        description="A word for every point, low to high (as many as max - min + 1). "
        "Buttons and summaries show them: '4 of 5 (heavy)'.",
    )

    def word(self, value: int) -> str | None:
        """The word for a point on the scale, if it has one."""
        if self.points is not None and self.min <= value <= self.max:
            return self.points[value - self.min]
        if value == self.min:
            return self.labels.min
        if value == self.max:
            return self.labels.max
        return None

    def heaviness(self, value: int) -> float:
        """How heavy `value` is, from 0 (the light end) to 1 (the heavy end)."""
        share = (value - self.min) / (self.max - self.min)
        return share if self.heavy == "max" else 1 - share


class InfoStep(_StepBase):
    """A message that needs no answer; the flow moves on at once."""

    kind: Literal["info"]
    store: StorePolicy = "never"


#: The answers a follow-up step offers, whatever their labels say.
FOLLOW_UP_VALUES = ("done", "carry_on", "drop", "stop_asking")


class FollowUpStep(_StepBase):
    """Asks about the next step the leader wrote last time, in their own words (the template
    sees it as `last_next_step`), and lets them mark it done, carry it on or drop it. Passed
    over without a word when there is none to ask about, or the leader switched follow-up off.
    Its options must use the values done, carry_on, drop and stop_asking."""

    kind: Literal["follow_up"]
    options: list[Option] = Field(min_length=4, max_length=4)
    optional: bool = True
    store: StorePolicy = "never"


Step = Annotated[
    TextStep | ChoiceStep | MultiChoiceStep | ScaleStep | InfoStep | FollowUpStep,
    Field(discriminator="kind"),
]


class Meta(_Strict):
    """For reviewers: who wrote the flow, what it draws on, when it was last looked at."""

    author: str = Field(min_length=1)
    draws_on: list[str] = Field(min_length=1)
    last_reviewed: dt.date


class Rehearsal(_Strict):
    """A test conversation a flow ships with: what a leader types, and what should happen."""

    name: str = Field(min_length=1)
    inputs: list[str]
    expect_steps: list[str] | None = Field(
        default=None, description="The step ids asked, in order (info steps included)."
    )
    expect_summary: list[str] = Field(
        default_factory=list, description="Fragments the rendered summary must contain."
    )


class Flow(_Strict):
    schema_version: Literal[1] = 1
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=40)
    title: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=200)
    area: Area
    minutes: int = Field(ge=1, le=60)
    meta: Meta
    intro: str = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    summary: str = Field(min_length=1)
    keywords: list[str] = Field(
        default_factory=list, description="Words that start this flow when a leader types them."
    )
    suggest_supervisor: Literal["offer", "when_heavy"] = Field(
        default="offer",
        description="offer: the end of the flow may suggest a human supervisor (bounded in "
        "frequency). when_heavy: only when there are signs of a heavy load (e.g. went-well).",
    )
    tests: list[Rehearsal] = Field(default_factory=list)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def index(self, step_id: str) -> int:
        for number, step in enumerate(self.steps):
            if step.id == step_id:
                return number
        raise KeyError(step_id)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the flow format, for editors (written to flows/schema.json)."""
    schema = Flow.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/reflect-bot/reflect/flows/schema.json"
    schema["title"] = "Reflect flow"
    return schema
