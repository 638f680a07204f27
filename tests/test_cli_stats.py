"""`reflect stats`: the aggregates as a table, JSON or CSV, never below the group size."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot import settings as settings_module
from bot.commands.stats import command
from bot.engine.people import Person
from bot.engine.reflections import Answer, Reflection
from bot.store import open_store

SECRET = "cli-test-secret-0123456789-abcdefghijkl"
#: Seven days ago always falls in the last complete ISO week.
LAST_WEEK = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    monkeypatch.chdir(tmp_path)
    return {
        "REFLECT_DATA_DIR": str(tmp_path / "data"),
        "REFLECT_DB": None,
        "REFLECT_SECRET_KEY": SECRET,
        "REFLECT_MIN_GROUP_SIZE": None,
        "REFLECT_RETENTION_DAYS": None,
    }


def _run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(command, list(args), env=env)


def _seed(env: dict[str, str | None], *, people: int, flow: str) -> None:
    values = {k: v for k, v in env.items() if v is not None}
    with open_store(settings_module.load(values, env_file=Path("/nonexistent"))) as store:
        for n in range(people):
            person = Person(f"T1:U{flow}{n}")
            store.finish(
                person,
                Reflection(
                    flow_id=flow,
                    started_at=LAST_WEEK,
                    finished_at=LAST_WEEK,
                    summary="never in stats",
                    answers=(Answer("weight", "scale", 2 if n % 2 else 4),),
                ),
            )
            store.record(person, "nudge_shown", at=LAST_WEEK, flow_id=flow)
            store.record(person, "signpost_shown", at=LAST_WEEK)


def test_the_table_shows_big_groups_and_hides_small_ones(env: dict[str, str | None]) -> None:
    _seed(env, people=10, flow="hard-day")
    _seed(env, people=3, flow="gibbs")
    result = _run(env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["week", "flow", "measure", "count"]
    gibbs = [line for line in lines if " gibbs " in line]
    assert len(gibbs) == 2 and all(line.endswith("fewer than 5") for line in gibbs)
    assert any(line.split()[-3:] == ["weight:", "4", "5"] for line in lines)
    assert "never in stats" not in result.output and "signpost" not in result.output


def test_json_and_csv_carry_the_same_figures(env: dict[str, str | None]) -> None:
    _seed(env, people=10, flow="hard-day")
    document = json.loads(_run(env, "--format", "json", "--weeks", "2").output)
    assert document["min_group_size"] == 5 and len(document["weeks"]) == 2
    rows = list(csv.DictReader(io.StringIO(_run(env, "--format", "csv", "--weeks", "2").output)))
    assert [r["shown"] for r in rows] == [f["shown"] for f in document["figures"]]
    assert rows[0]["measure"] == "reflections" and rows[0]["count"] == "10"


def test_a_larger_group_size_setting_is_respected(env: dict[str, str | None]) -> None:
    _seed(env, people=10, flow="hard-day")
    result = _run(env | {"REFLECT_MIN_GROUP_SIZE": "11"}, "--format", "json")
    (only,) = json.loads(result.output)["figures"][:1]
    assert only["shown"] == "fewer than 11" and only["count"] is None


def test_no_database_yet_reports_nothing_and_creates_nothing(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    result = _run(env)
    assert result.exit_code == 0 and "No reflections in" in result.output
    assert not (tmp_path / "data").exists()
