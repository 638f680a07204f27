"""Schema migrations: an older database is upgraded in place, and others can add tables."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from sqlite_utils.migrations import Migrations

from bot.engine.people import Person
from bot.engine.reflections import OLD_SCALE
from bot.store import schema
from bot.store.privacy import Keyring, new_data_key, row_aad, seal
from bot.store.sqlite import SqliteStore
from bot.store.weekly.ledger import Ledger
from bot.store.weekly.tables import channel_key
from bot.store.weekly.teams import Teams, workspace_aad
from bot.weekly.privacy import lead_aad
from tests.store.conftest import NOW, SECRET

#: The schema as release 1 wrote it (frozen here on purpose: never import it from the code).
V1_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE sessions (pseudonym TEXT PRIMARY KEY, flow_id TEXT NOT NULL,"
    " state BLOB NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE reflections (id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
    " flow_id TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,"
    " summary BLOB NOT NULL)",
    "CREATE INDEX reflections_by_person ON reflections (pseudonym, finished_at)",
    "CREATE TABLE answers (reflection_id TEXT NOT NULL"
    " REFERENCES reflections (id) ON DELETE CASCADE, step_id TEXT NOT NULL,"
    " position INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT, sealed BLOB,"
    " PRIMARY KEY (reflection_id, step_id))",
    "CREATE TABLE events (id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL,"
    " event TEXT NOT NULL, flow_id TEXT, at TEXT NOT NULL)",
    "CREATE INDEX events_by_person ON events (pseudonym, event, at)",
    "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT,"
    " name TEXT, applied_at TEXT)",
    "CREATE UNIQUE INDEX idx__sqlite_migrations_migration_set_name"
    " ON _sqlite_migrations (migration_set, name)",
    "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
    " VALUES ('reflect', '001_initial', '2026-01-05 09:00:00+00:00')",
]


def _write_v1_database(path: Path, person: Person) -> None:
    """A release-1 database holding one reflection, written without today's code paths."""
    keyring = Keyring(SECRET)
    who = keyring.pseudonym(person.id)
    key = new_data_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in V1_SCHEMA:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("store_id", "v1store"), ("secret_check", keyring.check_value())],
        )
        summary = seal(key, b"kept since v1", aad=row_aad("reflections", "r1", who, "summary"))
        conn.execute(
            "INSERT INTO reflections VALUES ('r1', ?, 'hard-day', ?, ?, ?)",
            (who, "2026-01-05T08:55:00.000000+00:00", "2026-01-05T09:00:00.000000+00:00", summary),
        )
        conn.execute("INSERT INTO answers VALUES ('r1', 'weight', 0, 'scale', '2', NULL)")
        conn.execute(
            "INSERT INTO events (pseudonym, event, flow_id, at) VALUES"
            " (?, 'signpost_shown', NULL, '2026-01-05T23:10:21.000000+00:00')",
            (who,),
        )
    with sqlite3.connect(path.with_name("reflect-keys.db")) as keys:
        keys.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        keys.execute(
            "CREATE TABLE data_keys (pseudonym TEXT PRIMARY KEY, wrapped BLOB NOT NULL,"
            " created_at TEXT NOT NULL)"
        )
        keys.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("store_id", "v1store"), ("secret_check", keyring.check_value())],
        )
        keys.execute(
            "INSERT INTO data_keys VALUES (?, ?, '2026-01-05T08:55:00.000000+00:00')",
            (who, keyring.wrap(key, pseudonym=who)),
        )


def test_a_v1_database_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    person = Person("T1:U1")
    path = tmp_path / "reflect.db"
    _write_v1_database(path, person)
    with SqliteStore.open(path, secret=SECRET) as store:
        (kept,) = store.reflections(person)
        assert (kept.id, kept.summary, kept.answers[0].value) == ("r1", "kept since v1", 2)
        # A scale answer from before scales named their heavy end reads as those ran.
        assert kept.answers[0].scale == OLD_SCALE
        assert store.open_next_step(person) is None and store.follow_up_wanted(person)
        assert store.claim_event("Ev1", at=NOW)  # needs the table migration 002 added
        assert not store.claim_event("Ev1", at=NOW)
        assert store.claim_request("v0=ab", at=NOW)  # needs the table migration 004 added
        assert not store.claim_request("v0=ab", at=NOW)
    with sqlite3.connect(path) as conn:
        applied = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = 'reflect' ORDER BY id"
            )
        ]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        clear = conn.execute("SELECT count(*) FROM answers WHERE value IS NOT NULL").fetchone()
        events = conn.execute("SELECT event, at FROM events").fetchall()
    assert applied == [
        "001_initial",
        "002_seen_events",
        "003_time_indexes",
        "004_weekly_reminders",
        "005_minimised_events_and_access_log",
        "006_notices",
        "007_scale_marks_and_follow_up",
        "008_seen_requests",
        "009_weekly_channels_keyed",
        "010_organisation_settings",
        "011_outbox",
        "012_weekly_profiles_and_pacing",
        "013_oauth_installations",
        "014_weekly_members_and_planner",
        "015_weekly_team_installation",
    ]
    assert {"reflections_by_time", "events_by_time", "seen_events_by_time"} <= indexes
    assert clear == (0,)  # the v1 scale answer is sealed on opening
    # ...and crisis support shown at 23:10:21 becomes a sealed event on that day.
    assert events == [("sealed", "2026-01-05T00:00:00.000000+00:00")]
    with SqliteStore.open(path, secret=SECRET) as store:
        assert store.last_event(person, "signpost_shown") == dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def test_a_new_database_is_fully_migrated_and_reopening_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "reflect.db"
    SqliteStore.open(path, secret=SECRET).close()
    with SqliteStore.open(path, secret=SECRET) as store, store.reading() as db:
        assert schema.MIGRATIONS.pending(db) == []
        (count,) = db.execute(
            "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'reflect'"
        ).fetchone()
    assert count == len(schema.MIGRATIONS._migrations)


def test_another_module_can_add_its_own_tables(tmp_path: Path) -> None:
    nudges = Migrations("test-nudges")

    @nudges(name="001_weekly")
    def _weekly(db) -> None:  # type: ignore[no-untyped-def]
        db.execute("CREATE TABLE weekly_test (team TEXT PRIMARY KEY, sealed_user BLOB)")

    path = tmp_path / "reflect.db"
    with SqliteStore.open(path, secret=SECRET, migrations=[nudges]) as store:
        blob = store.keyring.seal("U0123", aad="weekly_test:t1")
        with store.writing() as db:
            db.execute("INSERT INTO weekly_test VALUES ('t1', ?)", [blob])
        with store.reading() as db:
            (sealed,) = db.execute("SELECT sealed_user FROM weekly_test").fetchone()
        assert store.keyring.unseal(sealed, aad="weekly_test:t1") == "U0123"

    later = Migrations("test-later")

    @later(name="001_other")
    def _other(db) -> None:  # type: ignore[no-untyped-def]
        db.execute("CREATE TABLE later_test (id INTEGER PRIMARY KEY)")

    with SqliteStore.open(path, secret=SECRET) as store:
        store.migrate(later)
        with store.reading() as db:
            assert "later_test" in db.table_names()


#: The weekly tables as the previous release kept them beside the store (frozen here on purpose).
WEEKLY_BEFORE = [
    "CREATE TABLE weekly_teams (channel TEXT PRIMARY KEY, workspace_sealed BLOB NOT NULL,"
    " day INTEGER NOT NULL, at TEXT NOT NULL, active INTEGER NOT NULL, lead TEXT NOT NULL,"
    " lead_sealed BLOB NOT NULL, switched_on_at REAL NOT NULL, updated_at REAL NOT NULL,"
    " problem TEXT)",
    "CREATE TABLE weekly_opt_outs (channel TEXT NOT NULL, person TEXT NOT NULL, at REAL NOT NULL,"
    " PRIMARY KEY (channel, person))",
    "CREATE TABLE weekly_people (person TEXT PRIMARY KEY, tz TEXT,"
    " deleted INTEGER NOT NULL DEFAULT 0, is_bot INTEGER NOT NULL DEFAULT 0,"
    " checked_at REAL NOT NULL)",
    "CREATE TABLE weekly_deliveries (id TEXT PRIMARY KEY, person TEXT NOT NULL,"
    " week TEXT NOT NULL, kind TEXT NOT NULL, channel TEXT NOT NULL,"
    " recipient_sealed BLOB NOT NULL, consent INTEGER NOT NULL, due_at REAL NOT NULL,"
    " state TEXT NOT NULL, claim_token TEXT, lease_until REAL, retry_at REAL,"
    " attempts INTEGER NOT NULL DEFAULT 0, sent_ts TEXT, reason TEXT,"
    " created_at REAL NOT NULL, updated_at REAL NOT NULL, UNIQUE (person, week, kind))",
    "INSERT INTO weekly_teams VALUES ('C1', x'01', 4, '16:00', 1, 'lead', x'02',"
    " 1793534400.0, 1793534400.0, NULL)",
    "INSERT INTO weekly_opt_outs VALUES ('C1', 'someone', 1793534400.5)",
    "INSERT INTO weekly_people VALUES ('someone', 'Europe/London', 0, 0, 1793534400.0)",
    "INSERT INTO weekly_deliveries VALUES ('d1', 'person', '2026-W44', 'weekly', 'C1', x'03',"
    " 1, 1793548800.0, 'sent', NULL, NULL, NULL, 1, '1.0001', NULL, 1793534400.0,"
    " 1793548801.25)",
]


def test_the_weekly_tables_of_the_previous_release_are_moved_into_the_store(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reflect.db"
    _write_v1_database(path, Person("T1:U1"))
    with sqlite3.connect(path) as conn:
        for statement in WEEKLY_BEFORE:
            conn.execute(statement)
    SqliteStore.open(path, secret=SECRET).close()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        team = conn.execute("SELECT channel, switched_on_at FROM reminder_teams").fetchone()
        opt_out = conn.execute("SELECT person, at FROM reminder_opt_outs").fetchone()
        entry = conn.execute(
            "SELECT id, state, due_at, updated_at, lease_until FROM reminder_ledger"
        ).fetchone()
    assert not {"weekly_teams", "weekly_opt_outs", "weekly_people", "weekly_deliveries"} & tables
    # ...and their channel ids are then keyed (migration 009), as the next test shows
    assert team == (channel_key(Keyring(SECRET), "C1"), "2026-11-01T12:00:00.000000+00:00")
    assert opt_out == ("someone", "2026-11-01T12:00:00.500000+00:00")
    assert entry == (
        "d1",
        "sent",
        "2026-11-01T16:00:00.000000+00:00",
        "2026-11-01T16:00:01.250000+00:00",
        None,
    )


#: Rows as the weekly tables held them before migration 009: the channel id in clear.
CLEAR_CHANNEL = "C0CLEARTEAM"


def _write_clear_channel_rows(path: Path) -> None:
    """A database as release 008 left it: every migration but 009, channel ids in clear."""
    with SqliteStore.open(path, secret=SECRET) as store:
        keyring = store.keyring
        workspace = keyring.seal("T1", aad=workspace_aad(CLEAR_CHANNEL))
        lead_sealed = keyring.seal("U1", aad=lead_aad(channel=CLEAR_CHANNEL, lead="lead"))
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '009_weekly_channels_keyed'")
        for table in ("reminder_teams", "reminder_opt_outs", "reminder_ledger"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN channel_sealed")
        conn.execute(
            "INSERT INTO reminder_teams VALUES (?, ?, 4, '16:00', 1, 'lead', ?,"
            " '2026-11-01T12:00:00.000000+00:00', '2026-11-01T12:00:00.000000+00:00', NULL,"
            " NULL)",
            (CLEAR_CHANNEL, workspace, lead_sealed),
        )
        conn.execute(
            "INSERT INTO reminder_opt_outs VALUES (?, 'someone',"
            " '2026-11-01T12:00:00.000000+00:00')",
            (CLEAR_CHANNEL,),
        )
        conn.execute(
            "INSERT INTO reminder_ledger (id, person, week, kind, channel, recipient_sealed,"
            " consent, due_at, state, attempts, sent_ts, created_at, updated_at)"
            " VALUES ('d1', 'person', '2026-W44', 'weekly', ?, x'03', 1,"
            " '2026-11-01T16:00:00.000000+00:00', 'sent', 1, '1.0001',"
            " '2026-11-01T12:00:00.000000+00:00', '2026-11-01T16:00:01.000000+00:00')",
            (CLEAR_CHANNEL,),
        )
    written = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.is_file())
    assert CLEAR_CHANNEL.encode() in written


def test_clear_channel_ids_in_the_weekly_tables_are_keyed_when_the_store_opens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reflect.db"
    _write_clear_channel_rows(path)
    with SqliteStore.open(path, secret=SECRET) as store:
        teams = Teams(store, keyring=store.keyring)
        team = teams.get(CLEAR_CHANNEL)
        assert team is not None and team.channel == CLEAR_CHANNEL and team.workspace == "T1"
        assert [t.channel for t in teams.active()] == [CLEAR_CHANNEL]
        assert teams.opted_out(channel=CLEAR_CHANNEL, person="someone")
        assert teams.opt_outs_of(CLEAR_CHANNEL) == {"someone"}
        ledger = Ledger(store)
        assert ledger.channels_of("person") == {CLEAR_CHANNEL}
        assert ledger.ever_sent(person="person", channel=CLEAR_CHANNEL)
        assert ledger.reminded(channel=CLEAR_CHANNEL, week="2026-W44") == {
            "person": dt.datetime(2026, 11, 1, 16, tzinfo=dt.UTC)
        }
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert CLEAR_CHANNEL.encode() not in b"".join(p.read_bytes() for p in files)
    key = channel_key(Keyring(SECRET), CLEAR_CHANNEL)
    with sqlite3.connect(path) as conn:
        for table in ("reminder_teams", "reminder_opt_outs", "reminder_ledger"):
            rows = conn.execute(f"SELECT channel, channel_sealed FROM {table}").fetchall()
            assert [(channel, sealed is not None) for channel, sealed in rows] == [(key, True)]
    SqliteStore.open(path, secret=SECRET).close()  # reopening changes nothing
    with sqlite3.connect(path) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM reminder_teams WHERE channel = ?", (key,)
        ).fetchone()
    assert count == 1
