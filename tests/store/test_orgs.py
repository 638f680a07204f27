"""Organisation keys in the SQLite store: people kept under their organisation's key, erased
with it; people from before organisations adopted under their workspace's key."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from bot.engine.people import Person
from bot.engine.reflections import Reflection
from bot.store.sqlite import SqliteStore

SECRET = b"o" * 32
NOW = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)


def reflection() -> Reflection:
    return Reflection(
        flow_id="hard-day", started_at=NOW, finished_at=NOW, summary="A ward day.", answers=()
    )


def orgs_of(store: SqliteStore) -> list[str | None]:
    with sqlite3.connect(store.keys_path) as db:
        return [row[0] for row in db.execute("SELECT org FROM data_keys ORDER BY org")]


def test_people_of_two_organisations_are_kept_under_each_ones_key(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "r.db", secret=SECRET) as store:
        ward, school = Person(id="T1:U1", org="T1"), Person(id="T2:U1", org="T2")
        store.finish(ward, reflection())
        store.finish(school, reflection())
        assert orgs_of(store) == sorted([store.keyring.org("T1"), store.keyring.org("T2")])
        assert store.erase_organisation("T2") == 1
        assert store.reflections(school) == []
        assert len(store.reflections(ward)) == 1
        assert orgs_of(store) == [store.keyring.org("T1")]


def test_people_kept_before_organisations_are_adopted_and_still_read(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "r.db", secret=SECRET) as store:
        before = Person(id="T1:U1")  # as every earlier release kept people: no organisation
        store.finish(before, reflection())
        assert orgs_of(store) == [None]
        assert store.adopt_people("T1") == 1
        assert store.adopt_people("T1") == 0  # once
    with SqliteStore.open(tmp_path / "r.db", secret=SECRET) as store:
        assert orgs_of(store) == [store.keyring.org("T1")]
        assert [r.summary for r in store.reflections(before)] == ["A ward day."]
        store.erase_organisation("T1")
        assert store.reflections(before) == []


def test_an_uninstalled_organisation_is_erased_when_its_grace_period_ends(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "r.db", secret=SECRET) as store:
        leaving, staying = Person(id="T1:U1", org="T1"), Person(id="T2:U2", org="T2")
        store.finish(leaving, reflection())
        store.finish(staying, reflection())
        store.uninstalled("T1", at=NOW, erase_after=NOW + dt.timedelta(days=7))
        store.uninstalled(
            "T1", at=NOW + dt.timedelta(days=6), erase_after=NOW + dt.timedelta(days=13)
        )
        assert store.is_uninstalled("T1") and not store.is_uninstalled("T2")
        assert store.erase_due(now=NOW + dt.timedelta(days=6)) == 0
        assert len(store.reflections(leaving)) == 1
        assert store.erase_due(now=NOW + dt.timedelta(days=7)) == 1  # the first date holds
        assert store.reflections(leaving) == [] and len(store.reflections(staying)) == 1
        assert store.erase_due(now=NOW + dt.timedelta(days=30)) == 0


def test_a_reinstall_within_the_grace_period_starts_clean(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "r.db", secret=SECRET) as store:
        person = Person(id="T1:U1", org="T1")
        store.finish(person, reflection())
        store.uninstalled("T1", at=NOW, erase_after=NOW + dt.timedelta(days=7))
        store.reinstalled("T1")
        assert not store.is_uninstalled("T1")
        assert store.reflections(person) == []
        store.finish(person, reflection())
        assert len(store.reflections(person)) == 1
