"""Organisation keys, in both stores: people kept under their organisation's key, erased with
it; people from before organisations adopted under their workspace's key; the standing an
uninstall sets, and a reinstall that starts clean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.engine.people import Person
from bot.engine.reflections import Reflection
from bot.store import Store

NOW = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)


def reflection() -> Reflection:
    return Reflection(
        flow_id="hard-day", started_at=NOW, finished_at=NOW, summary="A ward day.", answers=()
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    found: Store = request.getfixturevalue(
        f"{'pg' if request.param == 'postgres' else 'sqlite'}_store"
    )
    yield found


def orgs_of(store: Store, *people: Person) -> list[str | None]:
    """Which of T1 and T2 holds each person's data key under its key (None: neither)."""
    members = {org: store.members(org) for org in ("T1", "T2")}
    return [
        next((store.keyring.org(org) for org, held in members.items() if who in held), None)
        for who in (store.pseudonym(person) for person in people)
    ]


def test_people_of_two_organisations_are_kept_under_each_ones_key(store: Store) -> None:
    ward, school = Person(id="T1:U1", org="T1"), Person(id="T2:U1", org="T2")
    store.finish(ward, reflection())
    store.finish(school, reflection())
    assert orgs_of(store, ward, school) == [store.keyring.org("T1"), store.keyring.org("T2")]
    assert store.erase_organisation("T2") == 1
    assert store.reflections(school) == [] and not store.known(school)
    assert len(store.reflections(ward)) == 1 and store.known(ward)
    assert orgs_of(store, ward, school) == [store.keyring.org("T1"), None]


def test_people_kept_before_organisations_are_adopted_and_still_read(store: Store) -> None:
    before = Person(id="T1:U1")  # as every earlier release kept people: no organisation
    store.finish(before, reflection())
    assert orgs_of(store, before) == [None]
    assert store.adopt_people("T1") == 1
    assert store.adopt_people("T1") == 0  # once
    assert orgs_of(store, before) == [store.keyring.org("T1")]
    assert [r.summary for r in store.reflections(before)] == ["A ward day."]
    store.erase_organisation("T1")
    assert store.reflections(before) == []


def test_an_uninstalled_organisation_is_erased_when_its_grace_period_ends(store: Store) -> None:
    leaving, staying = Person(id="T1:U1", org="T1"), Person(id="T2:U2", org="T2")
    store.finish(leaving, reflection())
    store.finish(staying, reflection())
    store.uninstalled("T1", at=NOW, erase_after=NOW + dt.timedelta(days=7))
    store.uninstalled("T1", at=NOW + dt.timedelta(days=6), erase_after=NOW + dt.timedelta(days=13))
    assert store.is_uninstalled("T1") and not store.is_uninstalled("T2")
    assert store.erase_due(now=NOW + dt.timedelta(days=6)) == 0
    assert len(store.reflections(leaving)) == 1
    assert store.erase_due(now=NOW + dt.timedelta(days=7)) == 1  # the first date holds
    assert store.reflections(leaving) == [] and len(store.reflections(staying)) == 1
    assert store.erase_due(now=NOW + dt.timedelta(days=30)) == 0


def test_a_reinstall_within_the_grace_period_starts_clean(store: Store) -> None:
    person = Person(id="T1:U1", org="T1")
    store.finish(person, reflection())
    store.uninstalled("T1", at=NOW, erase_after=NOW + dt.timedelta(days=7))
    store.reinstalled("T1")
    assert not store.is_uninstalled("T1")
    assert store.reflections(person) == []
    store.finish(person, reflection())
    assert len(store.reflections(person)) == 1
