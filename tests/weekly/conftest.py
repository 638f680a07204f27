from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeClock
from tests.slack.fake_slack import FakeSlack
from tests.weekly.harness import World

#: Monday 26 October 2026, 00:00 UTC: the week after London's clocks go back.
MONDAY = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)


@pytest.fixture
def workspace() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def world(tmp_path: Path, workspace: FakeSlack, request: pytest.FixtureRequest) -> Iterator[World]:
    """The weekly reminders' world on each store: an SQLite file, and PostgreSQL."""
    clock = FakeClock(MONDAY)
    workspace.clock = clock
    # Slack's per-method limits, on the test's clock: the reminders wait (on that clock) as
    # they would wait in real time.
    workspace.enforce_tiers(clock=lambda: clock().timestamp())
    path = tmp_path / "reflect.db"
    pg = request.getfixturevalue("pg_urls") if request.param == "postgres" else None
    world = World(db_path=path, workspace=workspace, api_url=workspace.url, clock=clock, pg=pg)
    yield world
    world.close()
