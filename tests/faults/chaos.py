"""Slack misbehaving at random (seeded): the tests' one fake Slack with faults injected.

- `ChaosSlack` extends tests/slack's FakeSlack: each call to a Web API method the bot uses
  (the conversation's, or with `methods=REMINDER_METHODS` the weekly reminders') may, with
  probability `rate`, answer 429 (Retry-After 0), answer 500, answer late (after the client's
  timeout: a timeout), or drop the connection before or after taking effect.
- The Slack app is built by tests/slack/harness.make_bot, with a client timeout short enough
  (CLIENT_TIMEOUT) that a timeout costs a fraction of a second.

Faults are drawn from one seeded random generator under a lock; which request meets which fault
still depends on thread timing, so tests assert what must hold whatever the draw.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.slack.fake_slack import FakeSlack, Fault

#: The client timeout in chaos runs, and how late a "timeout" answer comes.
CLIENT_TIMEOUT = 0.25
LATE = 0.4
KINDS = ("429", "500", "timeout", "drop", "drop_after")
BOT_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "views.publish",
        "views.open",
        "users.info",
        "conversations.open",
    }
)


@dataclass
class Dice:
    """Seeded draws, shared by the server's threads."""

    seed: int
    rate: float
    kinds: tuple[str, ...] = KINDS
    #: At most this many timeouts (each costs LATE seconds of a server thread).
    most_timeouts: int = 6
    drawn: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self) -> str | None:
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            if kind == "timeout" and self.drawn["timeout"] >= self.most_timeouts:
                kind = "500"
            self.drawn[kind] += 1
            return kind


#: The Web API methods the weekly reminders call.
REMINDER_METHODS = frozenset(
    {
        "chat.postMessage",
        "conversations.history",
        "conversations.members",
        "conversations.open",
        "users.info",
    }
)


class ChaosSlack(FakeSlack):
    """FakeSlack whose methods fail at random (only `methods`; auth.test always answers)."""

    def __init__(self, dice: Dice, *, methods: frozenset[str] = BOT_METHODS) -> None:
        super().__init__()
        self.dice = dice
        self.methods = methods
        self.quiet = False

    def _take_fault(self, method: str) -> Fault | None:
        planned = super()._take_fault(method)
        if planned is not None or self.quiet or method not in self.methods:
            return planned
        kind = self.dice.draw()
        if kind == "429":
            return Fault(status=429, error="ratelimited", retry_after=0)
        if kind == "500":
            return Fault(status=500, error="internal_error")
        if kind == "timeout":
            return Fault(delay=LATE)
        if kind == "drop":
            return Fault(drop=True)
        if kind == "drop_after":
            return Fault(drop=True, processed=True)
        return None


def eventually(check: Callable[[], bool], *, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()
