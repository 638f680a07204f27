"""The weekly reminders' tables are the same on both stores: the same SQL (bot.store.weekly)
runs on each, so PostgreSQL's migration 004 must make the columns SQLite's 004, 009 and 010 do."""

from __future__ import annotations

from pathlib import Path

from bot.store.sqlite import SqliteStore
from tests.pg_fixtures import PgUrls
from tests.weekly.harness import TEST_SECRET, connect

TABLES = (
    "reminder_teams",
    "reminder_opt_outs",
    "reminder_ledger",
    "reminder_profiles",
    "reminder_pacing",
)


def test_postgres_has_the_weekly_columns_sqlite_has(tmp_path: Path, pg_urls: PgUrls) -> None:
    SqliteStore.open(tmp_path / "reflect.db", secret=TEST_SECRET).close()
    db = connect(tmp_path / "reflect.db")
    sqlite = {
        table: sorted(row["name"] for row in db.execute(f"PRAGMA table_info({table})"))
        for table in TABLES
    }
    with pg_urls.connect() as conn:
        postgres = {
            table: sorted(
                str(row[0])
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = %s AND table_name = %s",
                    [pg_urls.schema, table],
                ).fetchall()
            )
            for table in TABLES
        }
    assert all(sqlite.values())
    assert postgres == sqlite
