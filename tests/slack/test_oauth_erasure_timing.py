"""An uninstalled organisation is erased within minutes of the end of its grace period while
a bot runs, not at the next daily round: housekeeping looks for due erasures every few
minutes (here every few hundredths of a second, on a clock the test moves), and purges once a
day."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from bot.engine.people import Person
from bot.slack.serving.housekeeping import ERASE_EVERY, Housekeeping
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, reflection

WARD, SCHOOL = "TWARDS0001", "TSCHOOL001"
SAM = Person(f"{WARD}:USAM000001", org=WARD)
ALEX = Person(f"{SCHOOL}:UALEX00001", org=SCHOOL)


class Counting(SqliteStore):
    """The SQLite store, counting the daily purges."""

    purges = 0

    def purge(self, *, older_than: dt.datetime) -> int:
        Counting.purges += 1
        return super().purge(older_than=older_than)


def _until(done: object, *, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "housekeeping did not get there in time"
        time.sleep(0.01)


def test_an_uninstalled_organisation_is_erased_minutes_after_its_grace_period(
    tmp_path: Path,
) -> None:
    assert dt.timedelta(minutes=5) >= ERASE_EVERY  # what the README promises
    now = [NOW]
    store = Counting.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: now[0])
    with store:
        for person in (SAM, ALEX):
            store.finish(person, reflection(at=NOW))
        grace = dt.timedelta(days=7)
        store.uninstalled(SCHOOL, at=NOW, erase_after=NOW + grace)
        keeping = Housekeeping(
            store=store,
            retention_days=365,
            clock=lambda: now[0],
            erase_every=dt.timedelta(seconds=0.02),
        )
        keeping.start()
        try:
            _until(lambda: Counting.purges == 1)
            time.sleep(0.1)  # several rounds: the grace period is not over
            assert store.known(ALEX) and len(store.reflections(ALEX)) == 1
            now[0] = NOW + grace + dt.timedelta(seconds=1)
            _until(lambda: not store.known(ALEX))
        finally:
            keeping.stop()
        assert store.reflections(ALEX) == []
        assert len(store.reflections(SAM)) == 1
        assert Counting.purges == 1  # the daily purge ran once, at start
