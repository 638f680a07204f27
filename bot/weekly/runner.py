"""Running the weekly reminders: `run_once(now)` for cron, and a scheduler thread for `reflect run`.

A round plans (who is due, into the ledger) and then sends what is due. The thread sleeps until
the next reminder is due or a poll interval passes (to notice people joining or leaving a team),
and stops cleanly: `stop()` interrupts any wait, including pacing and Retry-After waits.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.store.weekly.ledger import Ledger
from bot.weekly.planner import Planner, PlanReport
from bot.weekly.sender import Clock, Sender, SendReport

log = logging.getLogger(__name__)

POLL = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class RoundReport:
    plan: PlanReport
    send: SendReport
    #: When something is next due (a planned reminder, a retry, a lease running out), if known.
    next_wake: dt.datetime | None


class ReminderRunner:
    def __init__(
        self,
        *,
        planner: Planner,
        sender: Sender,
        ledger: Ledger,
        clock: Clock,
        keep_for: dt.timedelta | None = None,
    ) -> None:
        self.planner = planner
        self.sender = sender
        self.ledger = ledger
        self.clock = clock
        #: How long finished ledger rows are kept (REFLECT_RETENTION_DAYS); None: for ever.
        self.keep_for = keep_for
        self._purged_on: dt.date | None = None

    def run_once(self, *, now: dt.datetime | None = None) -> RoundReport:
        now = now or self.clock()
        if self.keep_for is not None and self._purged_on != now.date():
            gone = self.ledger.purge(older_than=now - self.keep_for)
            self._purged_on = now.date()
            if gone:
                log.info("weekly reminders: %d old ledger rows removed (retention)", gone)
        plan = self.planner.plan(now=now)
        send = self.sender.send_due()
        wakes = [moment for moment in (plan.next_due, self.ledger.next_wake()) if moment]
        return RoundReport(plan=plan, send=send, next_wake=min(wakes) if wakes else None)


class Scheduler:
    """The weekly reminders inside `reflect run`: one daemon thread, stopped with `stop()`.

    `build(sleep, should_stop)` makes the runner in the thread (SQLite connections belong to
    the thread that opened them); its sleeps must go through `sleep` so `stop()` cuts them short.
    """

    def __init__(
        self,
        *,
        build: Callable[[Callable[[float], None], Callable[[], bool]], ReminderRunner],
        clock: Clock,
        poll: dt.timedelta = POLL,
    ) -> None:
        self.build = build
        self.clock = clock
        self.poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="weekly-reminders", daemon=True)
        self.rounds = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop after the current step; True if the thread has ended."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(max(seconds, 0.0))

    def _loop(self) -> None:
        try:
            runner = self.build(self._sleep, self._stop.is_set)
        except Exception:
            log.exception("weekly reminders: the scheduler could not start")
            return
        log.info("weekly reminders: scheduler started")
        while not self._stop.is_set():
            wait = self.poll.total_seconds()
            try:
                report = runner.run_once()
                self.rounds += 1
                if report.next_wake is not None:
                    until = (report.next_wake - self.clock()).total_seconds()
                    wait = min(wait, max(until, 1.0))
            except Exception as error:  # keep going: the next round retries
                log.error("weekly reminders: a round failed (%s)", type(error).__name__)
            self._stop.wait(wait)
        log.info("weekly reminders: scheduler stopped")
