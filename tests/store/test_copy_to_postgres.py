"""`reflect db copy`: an SQLite installation moved into PostgreSQL keeps its pseudonyms and
keys. Data written through the SQLite store, copied, reads back through the PostgreSQL store
(decrypted, same pseudonyms, the same export), and a backup taken before the copy shows the
same; a second copy, an unknown table or a foreign keys database are refused, changing nothing;
a dry run changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store import export
from bot.store.copying import TABLES, Copied, CopiedTable, CopyRefused, copy_to_postgres
from bot.store.pg_database import PgDatabases
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.store.stats import Activity
from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from tests.cli_env import SECRET as CLI_SECRET
from tests.cli_env import cli_env
from tests.pg_fixtures import PgUrls
from tests.store.conftest import NOW, SECRET, open_pg, reflection

SAM = Person("T0SAMTEAM:U0SAMUSER", first_name="Sam")
ALEX = Person("T0SAMTEAM:U0ALEXUSR", first_name="Alex")
#: The time the copy runs: the Slack event claimed at NOW is still within its day.
COPIED_AT = NOW + dt.timedelta(hours=2)


def _fill(store: SqliteStore) -> None:
    """A little of everything the store keeps, for two people."""
    for number in range(3):
        at = NOW - dt.timedelta(days=number)
        store.finish(SAM, reflection(at=at, text=f"Sam's day {number}", scale=number + 1))
    store.finish(ALEX, reflection(at=NOW, text="Alex's day"))
    store.finish(ALEX, reflection(at=NOW, text="Same minute, later"))  # ties: order kept
    store.save_session(SAM, Session(flow_id="hard-day", step_id="weight", started_at=NOW))
    store.record(SAM, "signpost_shown", at=NOW)
    store.record(ALEX, "nudge_firm_shown", at=NOW - dt.timedelta(days=1), flow_id="hard-day")
    store.want_follow_up(ALEX, False)
    assert store.first_time(SAM, "agreement")
    store.record_access(SAM, action="export", reason="asked by Sam", at=NOW)
    store.record_access(ALEX, action="erase-check", reason="checking", at=NOW)
    assert store.claim_event("Ev-still-fresh", at=NOW)
    assert store.claim_request("v0=old-signature", at=NOW - dt.timedelta(hours=1))
    Teams(store, keyring=store.keyring).switch_on(
        channel="C0WARDTEAM",
        workspace="E0GRIDORG",
        when=WeeklyTime(day=4, time=dt.time(16)),
        lead=store.pseudonym(SAM),
        lead_sealed=b"sealed elsewhere",
        now=NOW,
        installation="E0GRIDORG/T0SAMTEAM",  # the installation it was switched on through
    )


def _what_reads(store: SqliteStore | PostgresStore) -> dict[str, object]:
    """Everything a person or the operator can read back, compared between stores."""
    return {
        who.id: {
            "export": store.export(who),
            "json": export.as_json(store.export(who), exported_at=NOW),
            "session": store.load_session(who),
            "crisis": store.last_event(who, "signpost_shown"),
            "next_step": store.open_next_step(who),
            "follow_up": store.follow_up_wanted(who),
            "access": store.access_records(who),
            "pseudonym": store.pseudonym(who),
        }
        for who in (SAM, ALEX)
    } | {
        "weekly_teams": [
            (team.channel, team.workspace, team.installation, team.when)
            for team in Teams(store, keyring=store.keyring).active()
        ],
        "all_access": store.access_records(),
        "activity": _in_any_order(
            store.activity(since=NOW - dt.timedelta(days=7), until=NOW + dt.timedelta(1))
        ),
    }


def _in_any_order(activity: Activity) -> tuple[list[str], ...]:
    """Aggregates come in no particular order."""
    return tuple(
        sorted(repr(fact) for fact in facts)
        for facts in (activity.reflections, activity.scales, activity.events)
    )


def _databases(urls: PgUrls) -> PgDatabases:
    databases = PgDatabases(urls.url, keys_url=urls.keys_url, pool_size=1)
    databases.open()
    return databases


def _copy(source: SqliteStore, urls: PgUrls, **options: Any) -> Copied:
    databases = _databases(urls)
    try:
        return copy_to_postgres(source, databases, clock=lambda: COPIED_AT, **options)
    finally:
        databases.close()


def _pseudonyms(conn: psycopg.Connection[tuple[object, ...]], table: str) -> set[object]:
    return {row[0] for row in conn.execute(f"SELECT DISTINCT pseudonym FROM {table}")}


def test_a_copy_reads_back_the_same_through_the_postgres_store(
    tmp_path: Path, pg_empty_urls: PgUrls
) -> None:
    source = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW)
    _fill(source)
    source.backup(tmp_path / "backup.db")
    before = _what_reads(source)
    expected = {source.pseudonym(who) for who in (SAM, ALEX)}
    lines: list[str] = []
    copied = _copy(source, pg_empty_urls, progress=lines.append)
    source.close()

    assert copied.rows["reflections"] == 5 and copied.keys == 2
    assert copied.rows["seen_events"] == 1 and copied.rows["seen_requests"] == 0
    assert "reflect/001_initial" in copied.migrations
    assert any(line.startswith("reflections: 5 rows") for line in lines)

    with open_pg(pg_empty_urls, clock=lambda: COPIED_AT) as target:
        assert _what_reads(target) == before
        assert not target.claim_event("Ev-still-fresh", at=COPIED_AT)  # the claim still holds
        assert target.claim_request("v0=old-signature", at=COPIED_AT)  # expired: not copied
        target.record_access(SAM, action="export", reason="again", at=COPIED_AT)
        target.record(SAM, "signpost_shown", at=COPIED_AT)  # new rows get new numbers
        assert [r.reason for r in target.access_records(SAM)] == ["asked by Sam", "again"]
        assert target.last_event(SAM, "signpost_shown") == COPIED_AT

    with pg_empty_urls.connect() as conn, pg_empty_urls.connect(keys=True) as keys:
        assert _pseudonyms(conn, "reflections") == expected
        assert _pseudonyms(keys, "data_keys") == expected

    backup = SqliteStore.open(
        tmp_path / "backup.db", secret=SECRET, keys_path=tmp_path / "reflect-keys.db"
    )
    with backup:
        assert _what_reads(backup) == before


def test_a_second_copy_is_refused_and_changes_nothing(tmp_path: Path, pg_urls: PgUrls) -> None:
    with SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW) as source:
        _fill(source)
        _copy(source, pg_urls)
        source.finish(SAM, reflection(text="Written after the copy"))
        with pytest.raises(CopyRefused, match="already holds data"):
            _copy(source, pg_urls)
    with open_pg(pg_urls) as target:
        assert len(target.export(SAM)) == 3


def test_keys_left_by_a_failed_copy_are_taken_up_by_the_next(
    tmp_path: Path, pg_urls: PgUrls
) -> None:
    """The keys database commits first: a copy failing after that leaves the keys, and
    running it again goes on with them."""
    with SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW) as source:
        _fill(source)
        broken = (*TABLES, CopiedTable("answers", order_by="no_such_column"))
        with pytest.raises(Exception, match="no_such_column"):
            _copy(source, pg_urls, tables=broken)
        with pg_urls.connect() as conn, pg_urls.connect(keys=True) as keys:
            assert conn.execute("SELECT count(*) FROM reflections").fetchone() == (0,)
            assert keys.execute("SELECT count(*) FROM data_keys").fetchone() == (0,)
        # Keys committed by an earlier attempt whose data part failed:
        databases = _databases(pg_urls)
        with source.reading() as lite, databases.keys() as keys:
            for row in lite.execute("SELECT pseudonym, wrapped, created_at FROM keys.data_keys"):
                keys.execute("INSERT INTO data_keys VALUES (%s, %s, %s)", row)
        databases.close()
        copied = _copy(source, pg_urls)
        assert (copied.keys, copied.keys_already_there) == (0, 2)
        before = _what_reads(source)
    with open_pg(pg_urls) as target:
        assert _what_reads(target) == before


def test_other_keys_in_the_keys_database_are_refused(tmp_path: Path, pg_urls: PgUrls) -> None:
    with open_pg(pg_urls) as target:
        target.save_session(SAM, Session(flow_id="hard-day", step_id="weight", started_at=NOW))
        target.drop_session(SAM)  # the data database is empty again, a key of its own remains
    with SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW) as source:
        _fill(source)
        with pytest.raises(CopyRefused, match="other data keys"):
            _copy(source, pg_urls)
    with pg_urls.connect() as conn:
        assert conn.execute("SELECT count(*) FROM reflections").fetchone() == (0,)


def test_a_table_the_copy_does_not_know_is_refused_until_listed(
    tmp_path: Path, pg_empty_urls: PgUrls
) -> None:
    pg_urls = pg_empty_urls  # a schema of its own, dropped afterwards with the table
    with pg_urls.connect() as conn:
        conn.execute("CREATE TABLE team_notes (pseudonym text PRIMARY KEY, note bytea NOT NULL)")
    with SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW) as source:
        _fill(source)
        with pytest.raises(CopyRefused, match=r"does not know \(team_notes\)"):
            _copy(source, pg_urls)
        with source.writing() as lite:
            lite.execute("CREATE TABLE team_notes (pseudonym TEXT PRIMARY KEY, note BLOB NOT NULL)")
            lite.execute("INSERT INTO team_notes VALUES ('p1', x'00ff')")
        listed = (*TABLES, CopiedTable("team_notes", order_by="pseudonym"))
        copied = _copy(source, pg_urls, tables=listed)
        assert copied.rows["team_notes"] == 1
    with pg_urls.connect() as conn:
        assert conn.execute("SELECT pseudonym, note FROM team_notes").fetchall() == [
            ("p1", b"\x00\xff")
        ]


def test_rows_postgres_has_no_table_for_are_refused_or_left_behind(
    tmp_path: Path, pg_urls: PgUrls
) -> None:
    with SqliteStore.open(tmp_path / "reflect.db", secret=SECRET, clock=lambda: NOW) as source:
        _fill(source)
        with source.writing() as lite:
            lite.execute("CREATE TABLE old_notes (id INTEGER PRIMARY KEY, note TEXT)")
            lite.execute("INSERT INTO old_notes (note) VALUES ('kept by an old release')")
        with pytest.raises(CopyRefused, match="old_notes: 1 rows"):
            _copy(source, pg_urls)
        copied = _copy(source, pg_urls, leave_behind=["old_notes"])
        assert copied.left_behind == {"old_notes": 1}


# ---------------------------------------------------------------------- the command


def _run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def test_reflect_db_copy_dry_run_then_copy_then_refuse(
    tmp_path: Path, pg_empty_urls: PgUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = cli_env(tmp_path, REFLECT_DATABASE_URL=None, REFLECT_KEYS_DATABASE_URL=None)
    db = tmp_path / "data" / "reflect.db"
    with SqliteStore.open(db, secret=CLI_SECRET.encode(), clock=lambda: NOW) as source:
        _fill(source)
        before = _what_reads(source)
    sqlite_only = _run(env, "db", "copy")
    assert sqlite_only.exit_code == 1 and "REFLECT_DATABASE_URL" in sqlite_only.output
    env |= {
        "REFLECT_DATABASE_URL": pg_empty_urls.url,
        "REFLECT_KEYS_DATABASE_URL": pg_empty_urls.keys_url,
    }
    modified = db.stat().st_mtime_ns

    dry = _run(env, "db", "copy", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: would copy" in dry.output and "applied reflect/001_initial" in dry.output
    assert db.stat().st_mtime_ns == modified
    assert _run(env, "db", "status").exit_code == 1  # still nothing applied on PostgreSQL

    done = _run(env, "db", "copy")
    assert done.exit_code == 0, done.output
    assert "reflections: 5 rows copied" in done.output and "2 data keys" in done.output
    again = _run(env, "db", "copy")
    assert again.exit_code == 1
    assert again.output.splitlines()[1:] == [again.output.splitlines()[-1]]  # one line
    assert again.output.splitlines()[-1].startswith("Error: The PostgreSQL database already")
    with open_pg(pg_empty_urls, secret=CLI_SECRET.encode()) as target:
        assert _what_reads(target) == before


def test_reflect_db_copy_help_and_missing_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    helped = _run(cli_env(tmp_path), "db", "copy", "--help")
    assert helped.exit_code == 0 and "--dry-run" in helped.output and "--from" in helped.output
    env = cli_env(
        tmp_path,
        REFLECT_DATABASE_URL="postgresql://reflect@/reflect?host=/nonexistent",
        REFLECT_KEYS_DATABASE_URL="postgresql://reflect@/reflect_keys?host=/nonexistent",
    )
    missing = _run(env, "db", "copy")
    assert missing.exit_code == 1 and "There is no SQLite database" in missing.output
