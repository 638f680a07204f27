"""Housekeeping inside `reflect run`: every day, reflections past the retention period are
purged, and those past an organisation's own shorter period (`shorter`); every few minutes
(`erase_every`, five by default), organisations whose grace period after an uninstall is over
are erased, so that an erasure happens within minutes of its due time while a bot process
runs (or when the next one starts)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

#: How often a running bot looks for organisations due for erasure.
ERASE_EVERY = dt.timedelta(minutes=5)


class Purging(Protocol):
    def purge(self, *, older_than: dt.datetime) -> int: ...


class Housekeeping:
    def __init__(
        self,
        *,
        store: Purging,
        retention_days: int,
        clock: Callable[[], dt.datetime],
        every: dt.timedelta = dt.timedelta(days=1),
        erase_every: dt.timedelta = ERASE_EVERY,
        shorter: Callable[[dt.datetime], int] | None = None,
    ) -> None:
        self.store = store
        #: Purges what is past an organisation's own, shorter retention (given now).
        self.shorter = shorter
        self.retention = dt.timedelta(days=retention_days)
        self.clock = clock
        self.every = every
        self.erase_every = min(erase_every, every)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def erase_due(self) -> int:
        """Erase the organisations whose grace period after an uninstall is over."""
        erase_due = getattr(self.store, "erase_due", None)
        if erase_due is None:
            return 0
        erased: int = erase_due(now=self.clock())
        if erased:
            log.info("housekeeping: %d uninstalled organisation(s) erased", erased)
        return erased

    def run_once(self) -> int:
        """Erase what is due, then purge what is past retention; returns how many
        reflections were purged."""
        self.erase_due()
        now = self.clock()
        purged = self.store.purge(older_than=now - self.retention)
        if self.shorter is not None:
            purged += self.shorter(now)
        log.info("housekeeping: %d reflection(s) past retention purged", purged)
        return purged

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reflect-housekeeping", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        """Everything at start, then erasures every `erase_every` and the purge every `every`,
        until stopped."""
        purge_next = time.monotonic()
        while True:
            try:
                if time.monotonic() >= purge_next:
                    purge_next = time.monotonic() + self.every.total_seconds()
                    self.run_once()
                else:
                    self.erase_due()
            except Exception as error:  # keep the bot up; try again at the next round
                log.error("housekeeping failed: %s", type(error).__name__)
            if self._stop.wait(self.erase_every.total_seconds()):
                return
