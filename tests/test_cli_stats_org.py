"""`reflect stats --org`: one organisation's aggregates, apart from every other's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from bot import settings as settings_module
from bot.commands.stats import command
from bot.engine.people import Person
from bot.engine.reflections import Answer, Reflection
from bot.store import open_store
from tests.cli_env import cli_env

LAST_WEEK = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)


def _seed(env: dict[str, str | None], *, org: str, people: int) -> None:
    values = {k: v for k, v in env.items() if v is not None}
    with open_store(settings_module.load(values, env_file=Path("/nonexistent"))) as store:
        for n in range(people):
            store.finish(
                Person(f"{org}:U{n}", org=org),
                Reflection(
                    flow_id="hard-day",
                    started_at=LAST_WEEK,
                    finished_at=LAST_WEEK,
                    summary="never in stats",
                    answers=(Answer("weight", "scale", 4),),
                ),
            )


def _count(env: dict[str, str | None], *args: str) -> str:
    result = CliRunner().invoke(command, ["--format", "json", *args], env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["figures"]
    return next((f["shown"] for f in figures if f["measure"] == "reflections"), "none")


def test_each_organisation_sees_only_its_own_figures(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    _seed(env, org="TWARD", people=6)
    _seed(env, org="TSCHOOL", people=3)
    assert _count(env) == "9"
    assert _count(env, "--org", "TWARD") == "6"
    assert _count(env, "--org", "TSCHOOL") == "fewer than 5"
    assert _count(env, "--org", "TNOBODY") == "none"
