"""Organisations' own settings and members, on the SQLite and the PostgreSQL store: kept sealed
under a digest of the organisation, read back as given, and an organisation's shorter
retention reaching only its own people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.runtime import organisations_over
from bot.slack.identity import workspace_of
from bot.slack.serving.housekeeping import Housekeeping
from bot.store import Store
from bot.store.organisations import OrganisationSettings
from bot.store.sqlite import SqliteStore
from tests.engine.test_organisation import SCHOOL_SUPERVISORS, defaults
from tests.store.conftest import NOW, SECRET, open_pg, reflection
from tests.store.test_privacy_both import _raw_values

SCHOOL, HOSPITAL = "TSCHOOL0001", "EHOSPITAL01"
HEAD = Person(f"{SCHOOL}:U0HEAD")
NURSE = Person(f"{HOSPITAL}:U0NURSE")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store
    if request.param == "postgres":
        opened = open_pg(request.getfixturevalue("pg_urls"), clock=lambda: NOW)
    else:
        opened = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW)
    yield opened
    opened.close()


def _raw(store: Store, request: pytest.FixtureRequest) -> bytes:
    """Every byte the store keeps, as someone with the files but no secret reads them."""
    if isinstance(store, SqliteStore):
        return b"".join(
            path.read_bytes() for path in (store.path, Path(f"{store.path}-wal")) if path.exists()
        )
    return _raw_values(request.getfixturevalue("pg_urls"), keys=False)


def _members(db: Any) -> int:
    row = db.execute("SELECT count(*) FROM organisation_members").fetchone()
    return int(row[0])


def test_settings_come_back_as_given_and_are_kept_sealed(
    store: Store, request: pytest.FixtureRequest
) -> None:
    kept = OrganisationSettings(store)
    assert kept.texts(SCHOOL) == {}
    kept.put(SCHOOL, "supervisors", SCHOOL_SUPERVISORS, at=NOW)
    kept.put(SCHOOL, "retention-days", "90", at=NOW)
    kept.put(SCHOOL, "retention-days", "60", at=NOW)  # replaced, not added
    kept.put(HOSPITAL, "default-flow", "gibbs", at=NOW)
    assert kept.texts(SCHOOL) == {"supervisors": SCHOOL_SUPERVISORS, "retention-days": "60"}
    assert kept.texts(HOSPITAL) == {"default-flow": "gibbs"}
    assert kept.retention_days() == {kept.key(SCHOOL): 60}
    if isinstance(store, SqliteStore):
        store.close()  # everything onto the page: the WAL checkpointed
        store = SqliteStore.open(store.path, secret=SECRET)
    raw = _raw(store, request)
    for secret_word in (SCHOOL.encode(), HOSPITAL.encode(), b"Hillside", b"gibbs"):
        assert secret_word not in raw
    if isinstance(store, SqliteStore):
        store.close()


def test_reset_one_or_every_setting_and_erase(store: Store) -> None:
    kept = OrganisationSettings(store)
    for name, text in (("default-flow", "gibbs"), ("retention-days", "30")):
        kept.put(SCHOOL, name, text, at=NOW)
    kept.put(HOSPITAL, "retention-days", "30", at=NOW)
    assert kept.remove(SCHOOL, "default-flow") == 1
    assert kept.texts(SCHOOL) == {"retention-days": "30"}
    assert kept.remove(SCHOOL) == 1 and kept.texts(SCHOOL) == {}
    kept.note_member(HOSPITAL, store.pseudonym(NURSE))
    kept.erase(HOSPITAL)
    assert kept.texts(HOSPITAL) == {}
    with store.reading() as db:
        assert _members(db) == 0


def test_a_shorter_retention_reaches_only_that_organisations_people(store: Store) -> None:
    kept = OrganisationSettings(store)
    old, recent = NOW - dt.timedelta(days=40), NOW - dt.timedelta(days=10)
    for person in (HEAD, NURSE):
        kept.note_member(workspace_of(person) or "", store.pseudonym(person))
        store.finish(person, reflection(at=old))
        store.finish(person, reflection(at=recent))
    kept.put(SCHOOL, "retention-days", "30", at=NOW)
    kept.put(HOSPITAL, "retention-days", "365", at=NOW)  # as long as the server's: no change
    assert kept.purge_shorter(now=NOW, longest_days=365) == 1
    assert [r.finished_at for r in store.reflections(HEAD)] == [recent]
    assert len(store.reflections(NURSE)) == 2
    # A person never seen in an organisation is not reached by its period.
    stranger = Person(f"{SCHOOL}:U0NEW")
    store.finish(stranger, reflection(at=old))
    assert kept.purge_shorter(now=NOW, longest_days=365) == 0
    assert len(store.reflections(stranger)) == 1


def test_forget_takes_the_person_off_their_organisations_list(store: Store) -> None:
    kept = OrganisationSettings(store)
    kept.note_member(SCHOOL, store.pseudonym(HEAD))
    kept.note_member(SCHOOL, store.pseudonym(HEAD))  # once is enough
    with store.reading() as db:
        assert _members(db) == 1
    store.forget(HEAD)
    with store.reading() as db:
        assert _members(db) == 0


def test_the_lookup_applies_each_workspaces_settings_and_notes_members(store: Store) -> None:
    warnings: list[str] = []
    organisations = organisations_over(
        store=store,
        defaults=defaults(),
        flows=frozenset({"hard-day", "gibbs"}),
        workspace_of=workspace_of,
        warn=warnings.append,
    )
    assert organisations(Person("terminal:sam")) is None
    assert organisations(HEAD) == defaults()
    organisations.kept.put(SCHOOL, "supervisors", SCHOOL_SUPERVISORS, at=NOW)
    organisations.kept.put(SCHOOL, "default-flow", "went-away", at=NOW)
    school = organisations(HEAD)
    assert isinstance(school, Organisation)
    assert [s.name for s in school.supervisors] == ["Hillside Heads Supervision"]
    assert school.default_flow == "hard-day" and school.own == {"supervisors"}
    assert organisations(HEAD) is school  # checked once while the texts stay the same
    assert len(warnings) == 1 and SCHOOL not in warnings[0]  # no Slack id in the log
    assert organisations(NURSE) == defaults()
    with store.reading() as db:
        assert _members(db) == 2


def test_daily_housekeeping_applies_an_organisations_shorter_period(store: Store) -> None:
    kept = OrganisationSettings(store)
    kept.note_member(SCHOOL, store.pseudonym(HEAD))
    kept.put(SCHOOL, "retention-days", "30", at=NOW)
    for person in (HEAD, NURSE):
        store.finish(person, reflection(at=NOW - dt.timedelta(days=40)))
    housekeeping = Housekeeping(
        store=store,
        retention_days=365,
        clock=lambda: NOW,
        shorter=lambda now: kept.purge_shorter(now=now, longest_days=365),
    )
    assert housekeeping.run_once() == 1
    assert store.reflections(HEAD) == [] and len(store.reflections(NURSE)) == 1


def test_when_the_settings_cannot_be_read_the_defaults_apply(store: Store) -> None:
    """Crisis support never waits on an organisation's settings."""
    organisations = organisations_over(
        store=store,
        defaults=defaults(),
        flows=frozenset({"hard-day"}),
        workspace_of=workspace_of,
        warn=lambda _: None,
    )
    organisations.kept.put(SCHOOL, "supervisors", SCHOOL_SUPERVISORS, at=NOW)
    with store.writing() as db:  # sealed as the supervisors: unreadable as anything else
        db.execute("UPDATE organisation_settings SET name = 'signposts'")
    assert organisations(HEAD) is None


# A person's data key follows the installation that serves them: written through another
# organisation's install, they move under its key (their rows stay readable), and an erasure of
# the organisation they left takes nothing of theirs.

GRID, WARD, CLINIC = "EFOLLOW001", "TFOLLOWW01", "TFOLLOWC01"  # for the keys that follow


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
