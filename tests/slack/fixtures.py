"""The fake Slack as a fixture, for any test folder: `fake` serves the people of `people`,
which a test module or folder overrides to set up its own workspace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.slack.fake_slack import FakeSlack, User, running


@pytest.fixture
def people() -> tuple[User, ...]:
    """Who is in the fake Slack's workspace (by default two leaders in T1)."""
    return (User("U1", first_name="Sam"), User("U2", first_name="Alex"))


@pytest.fixture
def fake(people: tuple[User, ...]) -> Iterator[FakeSlack]:
    with running(*people) as server:
        yield server
