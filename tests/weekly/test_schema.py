"""The weekly reminders' tables are the same on both stores: the same SQL (bot.store.weekly)
runs on each, so PostgreSQL's migration 004 must make the columns SQLite's 004, 009 and 010 do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bot.store.sqlite import SqliteStore
from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from tests.pg_fixtures import PgUrls
from tests.weekly.harness import TEST_SECRET, connect

TABLES = (
    "reminder_teams",
    "reminder_opt_outs",
    "reminder_ledger",
    "reminder_profiles",
    "reminder_pacing",
)
NOW = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)


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


def test_a_teams_installation_is_kept_sealed_and_changes_only_when_switched_on_again(
    tmp_path: Path,
) -> None:
    """The installation a team was switched on through is its lead's choice of reach: a change
    of day or time keeps it (a team from before it was kept gets one), switching the team off
    and on again takes the new one. The file holds it only sealed."""
    path = tmp_path / "reflect.db"
    monday = WeeklyTime(day=0, time=dt.time(9))
    with SqliteStore.open(path, secret=TEST_SECRET) as store:
        teams = Teams(store, keyring=store.keyring)
        on: dict[str, Any] = {
            "channel": "C0TEAM",
            "workspace": "E0GRID",
            "lead": "lead",
            "lead_sealed": b"x",
        }
        before = teams.switch_on(**on, when=monday, now=NOW)
        assert before.installation is None and before.reach == "E0GRID"
        changed = teams.switch_on(**on, when=WeeklyTime(), now=NOW, installation="E0GRID/T0WARD")
        assert changed.installation == "E0GRID/T0WARD" and changed.reach == "E0GRID/T0WARD"
        again = teams.switch_on(**on, when=monday, now=NOW, installation="E0GRID/T0CLINIC")
        assert again.installation == "E0GRID/T0WARD"  # a change keeps it
        assert teams.switch_off(channel="C0TEAM", now=NOW)
        back = teams.switch_on(**on, when=monday, now=NOW, installation="E0GRID/T0CLINIC")
        assert back.installation == "E0GRID/T0CLINIC"
    raw = b"".join(file.read_bytes() for file in tmp_path.glob("reflect*"))
    assert b"T0CLINIC" not in raw and b"T0WARD" not in raw and b"E0GRID" not in raw
