"""What the Slack app needs from the store, beyond the engine's ReflectionStore port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from bot.engine.people import Person
from bot.engine.reflections import ReflectionStore, StoredReflection


class SlackStore(ReflectionStore, Protocol):
    def claim_event(self, event_id: str, *, at: dt.datetime) -> bool:
        """True the first time a Slack event id is seen, False for a redelivery (persisted)."""
        ...

    def claim_request(self, signature: str, *, at: dt.datetime) -> bool:
        """True the first time a signed request is seen, False for a replay (persisted)."""
        ...

    def release_request(self, signature: str) -> None:
        """Forget a claimed request whose handling failed, so that it may be sent again."""
        ...

    def writing(self) -> AbstractContextManager[object]:
        """One writing transaction around a whole request: whatever the store does inside it
        commits together, or not at all."""
        ...

    def export(self, person: Person) -> list[StoredReflection]:
        """All the person's reflections, newest first."""
        ...

    def first_time(self, person: Person, notice: str) -> bool:
        """True once per person and notice (persisted), then False."""
        ...

    def access_records(self, person: Person | None = None) -> Sequence[AccessRecordLike]:
        """What the server's operator did to the person's data, oldest first."""
        ...


class AccessRecordLike(Protocol):
    @property
    def action(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def day(self) -> dt.datetime: ...


class OutboxRow(Protocol):
    """One claimed row of the outbox (bot.store.outbox.OutboxEntry)."""

    @property
    def delivery(self) -> str: ...

    @property
    def payload(self) -> dict[str, Any]: ...

    @property
    def created_at(self) -> dt.datetime: ...

    @property
    def attempts(self) -> int: ...

    @property
    def in_doubt(self) -> bool: ...


class Outbox(Protocol):
    """What a step will say, written with the step and delivered after the ack (bot.store
    .outbox.Outbox keeps it in the store's database)."""

    def take_turn(self, person: Person) -> None: ...

    def add(
        self, person: Person, payloads: Sequence[dict[str, Any]], *, now: dt.datetime
    ) -> list[str]: ...

    def reseal(
        self, person: Person, deliveries: Sequence[str], payloads: Sequence[dict[str, Any]]
    ) -> int: ...

    def claim(self, *, now: dt.datetime, person: Person | None = None) -> OutboxRow | None: ...

    def delivered(self, entry: Any) -> bool: ...

    def release(self, entry: Any, *, retry_at: dt.datetime) -> bool: ...

    def pending(self, person: Person | None = None) -> int: ...
