"""`reflect data`: export, forget, purge and backup, driven in-process through click."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot import settings as settings_module
from bot.commands.data import command
from bot.engine.people import Person
from bot.engine.reflections import Answer
from bot.store import open_store
from bot.store.sqlite import SqliteStore
from tests.cli_env import SECRET, cli_env
from tests.store.conftest import reflection

ME = Person("terminal:sam")
SLACK = Person("T012AB3C4:U045DE6F7")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    return cli_env(tmp_path, REFLECT_RETENTION_DAYS=None)


def _run(env: dict[str, str | None], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(command, list(args), env=env, input=input)


def _open(env: dict[str, str | None]) -> SqliteStore:
    values = {k: v for k, v in env.items() if v is not None}
    store = open_store(settings_module.load(values, env_file=Path("/nonexistent")))
    assert isinstance(store, SqliteStore)
    return store


def _keep(env: dict[str, str | None], person: Person, summary: str, *, days_ago: int = 0) -> None:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    answers = (
        Answer("what_happened", "text", f"{summary} words"),
        Answer("weight", "scale", 2),
    )
    with _open(env) as store:
        store.finish(person, reflection(at=at, summary=summary, answers=answers))


def test_export_prints_my_reflections_as_markdown_newest_first(env: dict[str, str | None]) -> None:
    _keep(env, ME, "older one", days_ago=2)
    _keep(env, ME, "newer one")
    _keep(env, SLACK, "someone else's")
    result = _run(env | {"REFLECT_FLOWS_DIR": None}, "export")  # the built-in flows' titles
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("# Your reflections in Reflect")
    assert "## After a hard day, finished" in out
    assert out.index("newer one") < out.index("older one")
    assert "- **weight**: 2" in out and "newer one words" in out
    assert "someone else" not in out


def test_export_as_json_to_a_private_new_file(env: dict[str, str | None], tmp_path: Path) -> None:
    _keep(env, ME, "kept")
    target = tmp_path / "mine.json"
    result = _run(env, "export", "--format", "json", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Exported 1 reflection to" in result.stderr
    document = json.loads(target.read_text())
    (only,) = document["reflections"]
    assert only["summary"] == "kept" and only["flow_id"] == "hard-day"
    assert only["answers"][1] == {"step_id": "weight", "kind": "scale", "value": 2}
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    again = _run(env, "export", "--output", str(target))
    assert again.exit_code == 1 and "already exists" in again.output
    assert json.loads(target.read_text()) == document  # nothing overwritten


def test_an_operator_exports_for_a_slack_identity(env: dict[str, str | None]) -> None:
    _keep(env, SLACK, "slack reflection")
    refused = _run(env, "export", "--format", "json", "--person", "T012AB3C4:U045DE6F7")
    assert refused.exit_code == 2 and "--reason" in refused.output
    assert "slack reflection" not in refused.output
    result = _run(
        env,
        "export",
        "--format",
        "json",
        "--person",
        "T012AB3C4:U045DE6F7",
        "--reason",
        "subject access request",
    )
    assert [r["summary"] for r in json.loads(result.stdout)["reflections"]] == ["slack reflection"]
    with _open(env) as store:
        (record,) = store.access_records(SLACK)
        assert (record.action, record.reason) == ("export", "subject access request")
        assert store.access_records(ME) == []
    listed = _run(env, "access-log")
    assert listed.exit_code == 0
    assert "export" in listed.output and "subject access request" in listed.output
    assert "U045DE6F7" not in listed.output and "T012AB3C4" not in listed.output


def test_the_access_log_is_append_only(env: dict[str, str | None]) -> None:
    _keep(env, SLACK, "slack reflection")
    _run(env, "export", "--person", "T012AB3C4:U045DE6F7", "--reason", "court order")
    for statement in ("DELETE FROM access_log", "UPDATE access_log SET action = 'nothing'"):
        with (
            _open(env) as store,
            pytest.raises(sqlite3.IntegrityError, match="append-only"),
            store.writing() as db,
        ):
            db.execute(statement)
    with _open(env) as store:
        assert [r.reason for r in store.access_records(SLACK)] == ["court order"]


def test_a_malformed_identity_is_a_usage_error(env: dict[str, str | None]) -> None:
    result = _run(env, "export", "--person", "U045DE6F7")
    assert result.exit_code == 2
    assert "TEAM:USER" in result.output and "Traceback" not in result.output


def test_export_with_no_database_creates_nothing(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    result = _run(env, "export")
    assert result.exit_code == 0
    assert "No reflections are kept" in result.stderr
    assert not (tmp_path / "data").exists()


def test_forget_asks_first_and_keeps_everything_on_no(env: dict[str, str | None]) -> None:
    _keep(env, ME, "mine")
    result = _run(env, "forget", input="n\n")
    assert result.exit_code == 1 and "Erase 1 reflection" in result.output
    with _open(env) as store:
        assert len(store.reflections(ME)) == 1


def test_forget_on_yes_erases_me_and_only_me(env: dict[str, str | None]) -> None:
    _keep(env, ME, "mine")
    _keep(env, SLACK, "theirs")
    result = _run(env, "forget", input="y\n")
    assert result.exit_code == 0, result.output
    assert "Erased 1 reflection" in result.output
    with _open(env) as store:
        assert store.reflections(ME) == []
        assert len(store.reflections(SLACK)) == 1
    result = _run(env, "forget", "--yes", "--person", "T012AB3C4:U045DE6F7")
    assert result.exit_code == 2 and "--reason" in result.output
    result = _run(
        env, "forget", "--yes", "--person", "T012AB3C4:U045DE6F7", "--reason", "erasure request"
    )
    assert result.exit_code == 0 and "Erased 1 reflection" in result.output
    with _open(env) as store:  # the person still sees what was done, and why
        assert [(r.action, r.reason) for r in store.access_records(SLACK)] == [
            ("erase", "erasure request")
        ]


def test_purge_uses_the_retention_period_unless_told(env: dict[str, str | None]) -> None:
    _keep(env, ME, "ancient", days_ago=400)
    _keep(env, ME, "last month", days_ago=30)
    _keep(env, ME, "today")
    result = _run(env, "purge")
    assert result.exit_code == 0 and "Purged 1 reflection" in result.output
    result = _run(env, "purge", "--older-than-days", "7")
    assert "Purged 1 reflection" in result.output and "(7 days)" in result.output
    with _open(env) as store:
        assert [r.summary for r in store.reflections(ME)] == ["today"]
    assert _run(env, "purge", "--older-than-days", "0").exit_code == 2


def test_backup_writes_a_readable_copy_and_never_overwrites(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    _keep(env, ME, "backed up")
    target = tmp_path / "backups" / "monday.db"
    result = _run(env, "backup", str(target))
    assert result.exit_code == 0, result.output
    assert "reflect-keys.db" in result.output
    keys = tmp_path / "data" / "reflect-keys.db"
    with SqliteStore.open(target, secret=SECRET.encode(), keys_path=keys) as copy:
        assert [r.summary for r in copy.reflections(ME)] == ["backed up"]
    again = _run(env, "backup", str(target))
    assert again.exit_code == 1
    assert "already exists" in again.output and "Traceback" not in again.output


def test_the_wrong_secret_is_one_line_not_a_traceback(env: dict[str, str | None]) -> None:
    _keep(env, ME, "mine")
    result = _run(
        env | {"REFLECT_SECRET_KEY": "another-test-secret-9876543210-zyxwvutsrq"}, "export"
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "REFLECT_SECRET_KEY" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
