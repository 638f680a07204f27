"""Daily housekeeping inside `reflect run`: reflections past the retention period are purged,
and those past an organisation's own shorter period (`shorter`); organisations that
uninstalled the app longer ago than the grace period are erased."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


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
        shorter: Callable[[dt.datetime], int] | None = None,
    ) -> None:
        self.store = store
        #: Purges what is past an organisation's own, shorter retention (given now).
        self.shorter = shorter
        self.retention = dt.timedelta(days=retention_days)
        self.clock = clock
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        erase_due = getattr(self.store, "erase_due", None)
        if erase_due is not None:
            erased = erase_due(now=self.clock())
            if erased:
                log.info("housekeeping: %d uninstalled organisation(s) erased", erased)
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
        """Once at start, then every day until stopped."""
        while True:
            try:
                self.run_once()
            except Exception as error:  # keep the bot up; try again tomorrow
                log.error("housekeeping failed: %s", type(error).__name__)
            if self._stop.wait(self.every.total_seconds()):
                return
