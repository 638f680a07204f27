"""Slack misbehaving at random (seeded): the tests' fake Slack servers with faults injected.

- `ChaosSlack` extends tests/slack's FakeSlack: each call to a Web API method the bot uses
  may, with probability `rate`, answer 429 (Retry-After 0), answer 500, answer late (after the
  client's timeout: a timeout), or drop the connection before or after taking effect.
- `ChaoticWorkspace` extends tests/weekly's Workspace the same way for the weekly nudges.
- `chaos_bot` builds the Slack app exactly as tests/slack/harness.make_bot does, with a client
  whose timeout is short, so a timeout costs a fraction of a second.

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
from pathlib import Path
from typing import Any

from bot.engine.conversation import Conversations
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.slack.app import build_app
from bot.slack.delivery.client import web_client
from bot.slack.delivery.lanes import Lanes
from bot.store.sqlite import SqliteStore
from tests.slack.fake_slack import FakeSlack, Fault
from tests.slack.harness import Bot, library, settings_for, signposts, supervisors
from tests.weekly.fake_slack import Workspace

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


def chaos_bot(fake: FakeSlack, tmp_path: Path) -> Bot:
    """As tests/slack/harness.make_bot, with a short client timeout and no real sleeping."""
    config = settings_for(fake)
    store = SqliteStore.open(tmp_path / "reflect.db", secret=b"s" * 32)
    conversations = Conversations(
        library=library(),
        store=store,
        signposts=signposts(),
        suggestions=SuggestionPolicy(supervisors=supervisors()),
    )
    sleeps: list[float] = []
    client = web_client(settings=config, sleep=sleeps.append, backoff=0.001, timeout=CLIENT_TIMEOUT)
    lanes = Lanes(workers=4)
    app = build_app(
        conversations=conversations, store=store, settings=config, client=client, lanes=lanes
    )
    return Bot(app=app, store=store, lanes=lanes, conversations=conversations, sleeps=sleeps)


class ChaoticWorkspace(Workspace):
    """The weekly nudges' fake Slack, failing at random: 429, 500, a post dropped after it was
    made (its answer lost), a call dropped before it took effect, or a late answer."""

    def __init__(self, dice: Dice, *, late: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dice = dice
        self.late = late
        self.retry_after = 0
        self.quiet = False

    def handle(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        kind = None if self.quiet or method == "auth.test" else self.dice.draw()
        if kind == "429":
            with self.lock:
                self.calls.append(method)
            return 429, {"ok": False, "error": "ratelimited"}, ""
        if kind == "500":
            with self.lock:
                self.calls.append(method)
            return 500, {"ok": False, "error": "internal_error"}, ""
        if kind == "drop":
            with self.lock:
                self.calls.append(method)
            return 200, {}, "drop"
        status, body, fault = super().handle(method, args)
        if kind == "timeout" and self.late:
            time.sleep(self.late)
        if kind == "drop_after":
            return status, body, "drop"
        return status, body, fault


def eventually(check: Callable[[], bool], *, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()
