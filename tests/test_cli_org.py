"""`reflect org`: an organisation's own settings, set only when they pass every check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from tests.cli_env import cli_env
from tests.conftest import ROOT
from tests.engine.test_organisation import SCHOOL_SIGNPOSTS, SCHOOL_SUPERVISORS


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    monkeypatch.chdir(tmp_path)
    flows = tmp_path / "flows"  # two of the built-in flows: quicker to load than all
    flows.mkdir()
    for name in ("hard-day", "gibbs"):
        shutil.copy(ROOT / "flows" / f"{name}.yaml", flows)
    return cli_env(tmp_path, REFLECT_FLOWS_DIR=str(flows), REFLECT_RETENTION_DAYS="200")


def _run(env: dict[str, str | None], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["org", *args], env=env, input=stdin)


def test_settings_are_set_shown_read_back_and_reset(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    (tmp_path / "supervisors.yaml").write_text(SCHOOL_SUPERVISORS)
    for args in (
        ("supervisors", str(tmp_path / "supervisors.yaml")),
        ("default-flow", "gibbs"),
        ("retention-days", "90"),
    ):
        done = _run(env, "set", "T0SCHOOL", *args)
        assert done.exit_code == 0, done.output
    done = _run(env, "set", "T0SCHOOL", "signposts", "-", stdin=SCHOOL_SIGNPOSTS)
    assert done.exit_code == 0, done.output
    shown = _run(env, "show", "T0SCHOOL")
    lines = shown.output.splitlines()
    assert lines[0].startswith("signposts       own      version school-2027.01, review by 2027-09")
    assert lines[1:] == [
        "supervisors     own      1 listed",
        "default-flow    own      gibbs",
        "retention-days  own      90",
    ]
    assert _run(env, "get", "T0SCHOOL", "supervisors").output == SCHOOL_SUPERVISORS
    assert _run(env, "reset", "T0SCHOOL", "default-flow").exit_code == 0
    assert _run(env, "get", "T0SCHOOL", "default-flow").exit_code == 1
    assert _run(env, "reset", "T0SCHOOL").exit_code == 0
    other = _run(env, "show", "T0HOSPITAL")  # another workspace, or the school reset
    assert other.output.splitlines()[1:] == [
        "supervisors     default  1 listed",
        "default-flow    default  hard-day",
        "retention-days  default  200",
    ]


def test_a_broken_file_is_refused_with_every_problem_and_nothing_is_kept(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    broken = tmp_path / "ours.yaml"
    broken.write_text(SCHOOL_SUPERVISORS.replace("    cost: Paid by the trust\n", "    price: 0\n"))
    refused = _run(env, "set", "T0SCHOOL", "supervisors", str(broken))
    assert refused.exit_code == 1
    assert f"{broken} (supervisors):2: supervisors.0.cost: Field required" in refused.output
    assert f"{broken} (supervisors):6: supervisors.0.price: unknown key" in refused.output
    too_long = _run(env, "set", "T0SCHOOL", "retention-days", "400")
    assert too_long.exit_code == 1 and "choose from 1 to 200" in too_long.output
    unknown_flow = _run(env, "set", "T0SCHOOL", "default-flow", "nope")
    assert unknown_flow.exit_code == 1 and "no flow 'nope'" in unknown_flow.output
    nothing = _run(env, "get", "T0SCHOOL", "supervisors")
    assert nothing.exit_code == 1 and "has not set supervisors" in nothing.output


def test_a_workspace_must_be_a_slack_team_or_enterprise_id(env: dict[str, str | None]) -> None:
    refused = _run(env, "show", "my-school")
    assert refused.exit_code == 2 and "a Slack team id" in refused.output
    missing = _run(env, "set", "T0SCHOOL", "signposts", "/nowhere/signposts.yaml")
    assert missing.exit_code == 1 and "cannot read /nowhere/signposts.yaml" in missing.output
