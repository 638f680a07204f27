from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.weekly.fake_slack import Workspace, serve
from tests.weekly.harness import FakeClock, World

#: Monday 26 October 2026, 00:00 UTC: the week after London's clocks go back.
MONDAY = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)


@pytest.fixture
def workspace() -> Workspace:
    return Workspace()


@pytest.fixture
def world(tmp_path: Path, workspace: Workspace) -> Iterator[World]:
    clock = FakeClock(MONDAY)
    workspace.clock = clock
    with serve(workspace) as url:
        path = tmp_path / "reflect.db"
        world = World(db_path=path, workspace=workspace, api_url=url, clock=clock)
        yield world
        world.close()
