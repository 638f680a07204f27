"""A person's data key follows the installation that serves them, on both stores: written
through another organisation's install, they move under its key (their rows stay readable),
and an erasure of the organisation they left takes nothing of theirs; `move_people` moves a
whole workspace's people under its organisation's key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.store import Store
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, open_pg, reflection

GRID, WARD, CLINIC = "EFOLLOW001", "TFOLLOWW01", "TFOLLOWC01"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store
    if request.param == "postgres":
        opened = open_pg(request.getfixturevalue("pg_urls"), clock=lambda: NOW)
    else:
        opened = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW)
    yield opened
    opened.close()


def test_a_persons_key_follows_the_installation_that_serves_them(store: Store) -> None:
    via_ward = Person(f"{GRID}:USAM", org=WARD)
    via_grid = Person(f"{GRID}:USAM", org=GRID)
    stays = Person(f"{GRID}:UJO", org=WARD)
    for person in (via_ward, stays):
        store.finish(person, reflection())
    who = store.pseudonym(via_ward)
    assert store.members(WARD) == {who, store.pseudonym(stays)}
    store.finish(via_grid, reflection())
    assert store.members(GRID) == {who}
    assert store.members(WARD) == {store.pseudonym(stays)}
    store.erase_organisation(WARD)
    assert len(store.reflections(via_grid)) == 2
    assert store.reflections(stays) == []


def test_a_workspaces_people_move_under_their_organisations_key(store: Store) -> None:
    people = [Person(f"{GRID}:U{n}", org=WARD) for n in range(3)]
    other = Person(f"{GRID}:UOTHER", org=CLINIC)
    for person in [*people, other]:
        store.finish(person, reflection())
    assert store.move_people(WARD, GRID) == 3
    assert store.members(WARD) == set()
    store.erase_organisation(GRID)
    assert all(store.reflections(person) == [] for person in people)
    assert len(store.reflections(other)) == 1
