"""Choosing the database (REFLECT_DATABASE_URL, REFLECT_KEYS_DATABASE_URL), `reflect db
migrate` and `reflect db status` on SQLite and on PostgreSQL, and `reflect data` on
PostgreSQL, driven in-process through click."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot import settings as settings_module
from bot.cli import cli
from bot.engine.people import Person
from bot.settings import SettingsError, load
from bot.store import open_store
from bot.store.postgres import PostgresStore
from tests.cli_env import cli_env
from tests.pg_fixtures import PgUrls
from tests.store.conftest import reflection

ME = Person("terminal:sam")
PG_URL = "postgresql://reflect@db.example/reflect"
PG_KEYS_URL = "postgresql://reflect@db.example/reflect_keys"


def _run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    return cli_env(tmp_path, REFLECT_DATABASE_URL=None, REFLECT_KEYS_DATABASE_URL=None)


# ---------------------------------------------------------------------- settings


def test_sqlite_stays_the_default(tmp_path: Path) -> None:
    settings = load({}, env_file=tmp_path / "none")
    assert settings.database_url is None and not settings.uses_postgres


def test_postgres_needs_both_urls(tmp_path: Path) -> None:
    settings = load(
        {"REFLECT_DATABASE_URL": PG_URL, "REFLECT_KEYS_DATABASE_URL": PG_KEYS_URL},
        env_file=tmp_path / "none",
    )
    assert (settings.database_url, settings.keys_database_url) == (PG_URL, PG_KEYS_URL)
    assert settings.uses_postgres and settings.database_pool_size == 10
    with pytest.raises(SettingsError, match="REFLECT_KEYS_DATABASE_URL is required"):
        load({"REFLECT_DATABASE_URL": PG_URL}, env_file=tmp_path / "none")
    with pytest.raises(SettingsError, match="REFLECT_DATABASE_URL is not"):
        load({"REFLECT_KEYS_DATABASE_URL": PG_KEYS_URL}, env_file=tmp_path / "none")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"REFLECT_DATABASE_URL": "mysql://x/y", "REFLECT_KEYS_DATABASE_URL": PG_KEYS_URL}, "URL"),
        ({"REFLECT_DATABASE_URL": PG_URL, "REFLECT_KEYS_DATABASE_URL": PG_URL}, "another"),
        (
            {
                "REFLECT_DATABASE_URL": PG_URL,
                "REFLECT_KEYS_DATABASE_URL": PG_KEYS_URL,
                "REFLECT_DATABASE_POOL_SIZE": "0",
            },
            "POOL_SIZE",
        ),
    ],
)
def test_bad_database_settings_say_what_is_wrong(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load(values, env_file=tmp_path / "none")


# ---------------------------------------------------------------------- reflect db, SQLite


def test_db_migrate_on_a_new_sqlite_file(env: dict[str, str | None]) -> None:
    status = _run(env, "db", "status")
    assert status.exit_code == 1 and "pending reflect/001_initial" in status.output
    result = _run(env, "db", "migrate")
    assert result.exit_code == 0, result.output
    assert "applied reflect/001_initial" in result.output and "up to date" in result.output
    again = _run(env, "db", "migrate")
    assert again.exit_code == 0 and "applied" not in again.output
    assert _run(env, "db", "status").exit_code == 0


# ---------------------------------------------------------------------- reflect db, PostgreSQL


def _pg_env(env: dict[str, str | None], urls: PgUrls) -> dict[str, str | None]:
    return {**env, "REFLECT_DATABASE_URL": urls.url, "REFLECT_KEYS_DATABASE_URL": urls.keys_url}


def test_db_migrate_on_new_postgres_databases(
    env: dict[str, str | None], pg_empty_urls: PgUrls
) -> None:
    env = _pg_env(env, pg_empty_urls)
    status = _run(env, "db", "status")
    assert status.exit_code == 1, status.output
    assert "pending reflect-keys/001_data_keys" in status.output
    assert "pending reflect/001_initial" in status.output
    result = _run(env, "db", "migrate")
    assert result.exit_code == 0, result.output
    assert "applied reflect/001_initial" in result.output
    assert "PostgreSQL database reflect_data" in result.output
    assert _run(env, "db", "status").exit_code == 0
    assert "applied" not in _run(env, "db", "migrate").output


def test_an_unreachable_postgres_is_one_line(env: dict[str, str | None]) -> None:
    env = {
        **env,
        "REFLECT_DATABASE_URL": "postgresql://r:not-a-real-password@/r?host=/nonexistent",
        "REFLECT_KEYS_DATABASE_URL": "postgresql://r:not-a-real-password@/k?host=/nonexistent",
    }
    result = _run(env, "db", "migrate")
    assert result.exit_code == 1
    assert "Cannot connect to PostgreSQL" in result.output
    assert "not-a-real-password" not in result.output and "Traceback" not in result.output


def test_open_store_picks_postgres_and_data_commands_work_on_it(
    env: dict[str, str | None], pg_urls: PgUrls
) -> None:
    env = _pg_env(env, pg_urls)
    values = {k: v for k, v in env.items() if v is not None}
    with open_store(settings_module.load(values, env_file=Path("/nonexistent"))) as store:
        assert isinstance(store, PostgresStore)
        store.finish(ME, reflection(summary="kept in PostgreSQL"))
    exported = _run(env, "data", "export", "--format", "json")
    assert exported.exit_code == 0, exported.output
    assert "kept in PostgreSQL" in exported.output
    forgot = _run(env, "data", "forget", "--yes")
    assert forgot.exit_code == 0 and "Erased 1 reflection" in forgot.output
    backup = _run(env, "data", "backup", str(Path(str(env["REFLECT_DATA_DIR"])) / "b.db"))
    assert backup.exit_code == 1 and "pg_dump" in backup.output
    report = _run(env, "stats", "--format", "json")
    assert report.exit_code == 0, report.output
    assert '"figures"' in report.output
    nudges = _run(
        {**env, "SLACK_BOT_TOKEN": "xoxb-test"}, "nudges", "preview", "--at", "2026-11-23 09:00"
    )
    assert nudges.exit_code == 0, nudges.output  # the weekly reminders run on PostgreSQL too
    assert "Nobody would be due" in nudges.output
