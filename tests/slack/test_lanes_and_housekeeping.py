from __future__ import annotations

import datetime as dt
import threading

from bot.slack.delivery.lanes import Lanes
from bot.slack.serving.housekeeping import Housekeeping


def test_a_persons_jobs_run_in_order_and_a_failure_does_not_stop_the_lane() -> None:
    lanes = Lanes(workers=4)
    done: dict[str, list[int]] = {"a": [], "b": []}
    gate = threading.Event()

    def job(key: str, n: int) -> None:
        if n == 0:
            gate.wait(5)  # hold the first job so later ones queue up behind it
        if n == 3:
            raise RuntimeError("a failing post")
        done[key].append(n)

    for n in range(8):
        for key in ("a", "b"):
            lanes.submit(key, lambda key=key, n=n: job(key, n))  # type: ignore[misc]
    gate.set()
    assert lanes.wait_idle(timeout=5)
    assert done == {"a": [0, 1, 2, 4, 5, 6, 7], "b": [0, 1, 2, 4, 5, 6, 7]}
    lanes.close()


def test_different_people_do_not_wait_for_each_other() -> None:
    lanes = Lanes(workers=2)
    blocked = threading.Event()
    other_ran = threading.Event()
    lanes.submit("slow", lambda: blocked.wait(5))
    lanes.submit("quick", other_ran.set)
    assert other_ran.wait(5), "a stuck lane held up someone else"
    blocked.set()
    lanes.close()


class Purges:
    def __init__(self) -> None:
        self.asked: list[dt.datetime] = []

    def purge(self, *, older_than: dt.datetime) -> int:
        self.asked.append(older_than)
        return 2


def test_housekeeping_purges_what_is_past_retention() -> None:
    now = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
    store = Purges()
    keeping = Housekeeping(store=store, retention_days=30, clock=lambda: now)
    assert keeping.run_once() == 2
    assert store.asked == [now - dt.timedelta(days=30)]


def test_housekeeping_runs_at_start_and_stops_when_asked() -> None:
    store = Purges()
    keeping = Housekeeping(store=store, retention_days=365, clock=lambda: dt.datetime.now(dt.UTC))
    keeping.start()
    keeping.stop()
    assert len(store.asked) == 1
