"""A leader walking a whole flow while Slack misbehaves: typing or clicking each answer (a
click when the question's message made it to Slack, typing otherwise, as a leader would), and
Slack delivering some events twice, as it does when an ack is slow."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from bot.engine.reflections import StoredReflection
from tests.slack import payloads
from tests.slack.harness import Leader, buttons

LIMIT = 40


@dataclass
class Walk:
    leader: Leader
    seed: int
    statuses: list[int] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)
    clicked: dict[str, object] = field(default_factory=dict)
    redelivered: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def _note(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)

    def say(self, text: str) -> None:
        """A DM; sometimes Slack delivers the same event again (same event id, retry header)."""
        event = payloads.message_im(self.leader.user_id, text)
        event_id = f"Ev{self._random.getrandbits(48):012x}"
        self._note(self.leader.slack.event(event, event_id=event_id))
        if self._random.random() < 0.3:
            self._note(self.leader.slack.event(event, event_id=event_id, retry_num=1))
            self.redelivered += 1
        self.leader.bot.settle()

    def type_command(self, text: str) -> None:
        self._note(self.leader.types(text))

    def _question_message(self, step_id: str) -> dict[str, object] | None:
        for message in reversed(self.leader.messages()):
            for block, _ in buttons(message):
                if block.endswith(f"|{step_id}"):
                    return message
        return None

    def finish(self) -> list[StoredReflection]:
        """Start hard-day by /reflect and answer until it ends."""
        self.say("hi")
        self.type_command("hard-day")
        person = self.leader.person
        for _ in range(LIMIT):
            question = self.leader.bot.conversations.current(person)
            if question is None:
                return self.leader.bot.store.reflections(person, limit=None)
            step = question.step_id
            message = self._question_message(step)
            click = self._random.random() < 0.7
            if question.step_kind in ("choice", "scale", "follow_up") and message and click:
                value = question.choices[0].value if question.choices else "3"
                self._note(self.leader.clicks(value, message=message))
                self.clicked[step] = value
            elif question.step_kind == "multi" and message and click:
                ticked = [question.choices[0].value]
                self._note(self.leader.clicks(ticked, message=message))
                self.clicked[step] = ticked
            elif question.step_kind in ("choice", "scale", "multi", "follow_up"):
                self.say("1")
                self.typed[step] = "1"
            else:
                text = f"{self.leader.user_id} on {step}: a long day, still on my mind"
                self.say(text)
                self.typed[step] = text
        raise AssertionError("the flow did not end")
