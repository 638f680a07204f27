"""One thing at a time per person: two messages from the same leader never race the engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.engine.people import Person


class PersonLocks:
    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, person: Person) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(person.id, threading.Lock())
        with lock:
            yield
